"""Collections' tables, one module per part (reminders, cases, …), gathered here for the migrations."""

from fenqi.collections.models_cases import *  # noqa: F403
from fenqi.collections.models_reminders import *  # noqa: F403
