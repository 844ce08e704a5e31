import os
import secrets
import sys
from pathlib import Path

import pytest

# the package from this checkout, not an installed one
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture
def secret_file(tmp_path: Path) -> str:
    path = tmp_path / "cluster.key"
    path.write_bytes(secrets.token_bytes(32))
    os.chmod(path, 0o600)
    return str(path)
