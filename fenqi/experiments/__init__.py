"""A/B tests of the plan menu: arms by a stable hash of the shopper, exposures, conversion and early delinquency."""
