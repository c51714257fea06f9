"""``score``: score a submission file against a truth file with a task's official metric."""

from __future__ import annotations

import argparse
import inspect
import json
from pathlib import Path

from benchmarks.errors import UserError

NAME = "score"
HELP = "score a predictions file (Kaggle submission, TREC run) against a truth file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, help="task id whose metric and file formats to use")
    parser.add_argument("--predictions", type=Path, required=True, help="the submission / run file")
    parser.add_argument("--truth", type=Path, required=True, help="the truth / qrels / labels file")
    parser.add_argument("--json", action="store_true", help='print {"task", "main_metric", "metrics"} as JSON')
    parser.add_argument("--normalize-ids", action="store_true",
                        help="hm-map12: pad article ids of digits to 10 before comparing (Kaggle compares them as written)")


def main(args: argparse.Namespace) -> int:
    from benchmarks.data.textfile import check_input_file
    from benchmarks.registry import get_task

    task_cls = get_task(args.task)
    for path in (args.predictions, args.truth):
        check_input_file(path)
    options = {}
    if getattr(args, "normalize_ids", False):
        if "normalize_ids" not in inspect.signature(task_cls.score).parameters:
            raise UserError(f"--normalize-ids applies to hm-map12 only, not to {task_cls.id}")
        options["normalize_ids"] = True
    try:
        evaluation = task_cls().score(args.predictions, args.truth, **options)
    except NotImplementedError as error:
        raise UserError(str(error)) from None
    if args.json:
        print(json.dumps({"task": task_cls.id, "main_metric": task_cls.main_metric, "metrics": evaluation.metrics}))
    else:
        for name, value in evaluation.metrics.items():
            marker = "  (main)" if name == task_cls.main_metric else ""
            print(f"{name:<20} {value:.6f}{marker}")
    return 0
