"""A probe for tests/test_synth_cli.py: the synthesis the cdktf CLI starts (``main.py``, with this folder on
PYTHONPATH) writes, when it exits, how many AWS provider submodules it loaded, which tfe (HCP Terraform)
binding modules it loaded and everything it wrote on stderr (Python's warnings and what jsii passes on from
Node), as JSON, to the file named by ``VIBERGLASS_TEST_MODULE_REPORT``. Python imports a ``sitecustomize``
module found on its path at start-up; what the program writes still reaches its stderr unchanged."""

import atexit
import json
import os
import sys
from typing import Any

_REPORT = os.environ.get("VIBERGLASS_TEST_MODULE_REPORT")
_WRITTEN: list[str] = []


class _RecordingBuffer:
    def __init__(self, buffer: Any) -> None:
        self._buffer = buffer

    def write(self, data: bytes) -> int:
        _WRITTEN.append(bytes(data).decode("utf-8", "replace"))
        return int(self._buffer.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._buffer, name)


class _RecordingStream:
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.buffer = _RecordingBuffer(stream.buffer)

    def write(self, text: str) -> int:
        _WRITTEN.append(text)
        return int(self._stream.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _write_report() -> None:
    loaded = sum(name.startswith("cdktf_cdktf_provider_aws.") for name in sys.modules)
    tfe = sorted(name for name in sys.modules if "provider_tfe" in name)
    with open(str(_REPORT), "w", encoding="utf-8") as report:
        json.dump({"aws_submodules": loaded, "tfe_modules": tfe, "stderr": "".join(_WRITTEN), "argv": sys.argv}, report)


if _REPORT and sys.argv and sys.argv[0].endswith("main.py"):
    sys.stderr = _RecordingStream(sys.stderr)
    atexit.register(_write_report)
