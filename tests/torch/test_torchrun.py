"""Two real torchrun processes (gloo, DDP on CPU) share one ``rundocs.Run``: only rank 0 writes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import rundocs
from rundocs.load.records import Checkpoint
from rundocs.torch import load_checkpoint

pytestmark = pytest.mark.torch

SCRIPT = """
import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import rundocs
from rundocs.torch import save_checkpoint

runs_dir, report_dir = Path(sys.argv[1]), Path(sys.argv[2])
dist.init_process_group("gloo")
rank, world_size = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
model = torch.nn.Linear(4, 1)
ddp = DistributedDataParallel(model)
optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
generator = torch.Generator().manual_seed(100 + rank)  # each rank trains on its own shard
x = torch.randn(32, 4, generator=generator)
y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
losses = []
with rundocs.Run("ddp", dir=runs_dir, epochs=2, config={"world_size": world_size}) as run:
    for epoch in (1, 2):
        for _ in range(3):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(ddp(x), y)
            loss.backward()
            optimizer.step()
        mean_loss = loss.detach().clone()
        dist.all_reduce(mean_loss)
        mean_loss /= world_size
        losses.append(mean_loss.item())
        run.log(epoch=epoch, train_loss=mean_loss)
    if rank == 0:
        save_checkpoint(model, run.folder / "model.pt", run=run, arch={"inputs": 4, "outputs": 1}, epoch=2)
    report = {
        "active": run.active,
        "id": run.id,
        "folder": None if run.folder is None else str(run.folder),
        "repr": repr(run),
        "losses": losses,
        "weight": model.weight.detach().flatten().tolist(),
        "bias": model.bias.detach().tolist(),
    }
    (report_dir / f"rank{rank}.json").write_text(json.dumps(report))
dist.barrier()
dist.destroy_process_group()
# Gloo's C++ threads can abort the interpreter's own shutdown ("terminate called without an active
# exception", pytorch/pytorch#179291), more often on a loaded machine; the run has ended, so skip it.
sys.stdout.flush()
os._exit(0)
"""


def test_only_rank_zero_records_a_ddp_run(tmp_path: Path, child_env: dict[str, str]) -> None:
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    runs_dir, report_dir = tmp_path / "runs", tmp_path / "reports"
    report_dir.mkdir()
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    result = subprocess.run(
        [*command, str(script), str(runs_dir), str(report_dir)],
        env={**child_env, "OMP_NUM_THREADS": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    rank0 = json.loads((report_dir / "rank0.json").read_text())
    rank1 = json.loads((report_dir / "rank1.json").read_text())
    assert (rank1["active"], rank1["id"], rank1["folder"]) == (False, None, None)
    assert rank1["repr"] == "<Run (inactive on this rank)>"
    assert rank0["active"] is True
    assert [p.name for p in runs_dir.iterdir()] == [rank0["id"]]

    runs = rundocs.load_runs(runs_dir, strict=True)
    record = runs.records[rank0["id"]]
    assert (record.name, record.status, record.epochs, record.warnings) == ("ddp", "completed", 2, ())
    assert record.config == {"world_size": 2}
    assert record.env["distributed"] == {"rank": 0, "local_rank": 0, "world_size": 2}
    assert record.env["torch"] == torch.__version__
    history = runs.history(rank0["id"])
    assert history["epoch"].tolist() == [1, 2]
    assert history["train_loss"].tolist() == rank0["losses"] == rank1["losses"]  # all-reduced: equal on both ranks

    # The checkpoint rank 0 wrote holds the weights both ranks ended with.
    path = Path(rank0["folder"]) / "model.pt"
    assert record.checkpoints == (
        Checkpoint(
            path="model.pt",
            epoch=2,
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            bytes=path.stat().st_size,
            arch={"inputs": 4, "outputs": 1},
        ),
    )
    loaded = load_checkpoint(path, lambda arch: torch.nn.Linear(arch["inputs"], arch["outputs"]))
    assert isinstance(loaded, torch.nn.Linear)
    assert loaded.weight.flatten().tolist() == rank0["weight"] == rank1["weight"]
    assert loaded.bias.tolist() == rank0["bias"] == rank1["bias"]
