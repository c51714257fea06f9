"""``env``: print the hardware and software record that every result carries."""

from __future__ import annotations

import argparse
import json

NAME = "env"
HELP = "print the hardware, library versions and git commit that results record"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the record as JSON")


def main(args: argparse.Namespace) -> int:
    from benchmarks import environment

    described = environment.describe()
    if args.json:
        print(json.dumps(described, indent=1))
        return 0
    hardware = described["hardware"]
    accelerator = hardware.get("accelerator")
    print(f"cpu          {hardware.get('cpu')} ({hardware.get('cores')} cores available)")
    print(f"ram          {hardware.get('ram_gb')} GB")
    print(f"platform     {hardware.get('platform')}")
    if accelerator:
        details = ", ".join(f"{k}={v}" for k, v in accelerator.items() if k != "name")
        print(f"accelerator  {accelerator.get('name')} ({details})")
    else:
        print("accelerator  none (device auto resolves to cpu)")
    print(f"git sha      {described['git_sha'] or 'unknown (not a git checkout)'}")
    print(f"executable   {described['executable']}")
    print("versions")
    for name, version in described["versions"].items():
        print(f"  {name:<22} {version}")
    return 0
