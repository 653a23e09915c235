"""The README's main job: start the local Prefect server and digitise the sample forms."""

from __future__ import annotations

import sys

from flows.server import local_server


def main() -> int:
    """Run the demo and return the process exit code."""
    with local_server() as url:
        print(f"Prefect server answering at {url} (UI: {url.removesuffix('/api')})")
        print(
            "Not built yet: the digitise-forms pipeline (segmentation, recognition and the flow"
            " itself) has not landed, so there is nothing to digitise the sample forms with."
            " The server is stopped again now."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
