"""Data-parallel training (DDP on gloo, 2 processes) reaches the weights of
single-process training with the same global batch."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nnbook.distributed import free_port, make_dataset, make_model, train

ROOT = Path(__file__).resolve().parents[1]


def test_two_processes_match_one(tmp_path):
    out2, out1 = tmp_path / "w2.pt", tmp_path / "w1.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for nproc, out in ((2, out2), (1, out1)):
        proc = subprocess.run([sys.executable, "-m", "nnbook.distributed", "--nproc", str(nproc),
                               "--epochs", "3", "--out", str(out)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
    r2, r1 = torch.load(out2), torch.load(out1)
    assert r2["world_size"] == 2 and r1["world_size"] == 1
    assert r1["state_dict"].keys() == r2["state_dict"].keys()
    diff = max((r1["state_dict"][k] - r2["state_dict"][k]).abs().max().item()
               for k in r1["state_dict"])
    assert diff < 1e-5
    assert len(r1["losses"]) == len(r2["losses"]) == 3 * 512 // 64
    assert abs(r1["losses"][-1] - r2["losses"][-1]) < 1e-5
    assert r1["losses"][-1] < r1["losses"][0]          # it did learn something
    # the weights moved away from the shared initialization
    init = make_model().state_dict()
    assert max((init[k] - r1["state_dict"][k]).abs().max().item() for k in init) > 1e-3


def test_in_process_training_is_deterministic():
    a, la = train(0, 1, epochs=1)
    b, lb = train(0, 1, epochs=1)
    assert la == lb
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_helpers_and_bad_inputs():
    ds = make_dataset(64)
    assert len(ds) == 64 and ds[0][0].shape == (8,)
    assert 0 < free_port() < 65536
    with pytest.raises(ValueError, match="divisible"):
        train(0, 3, global_batch=64)
    with pytest.raises(ValueError, match="multiple of global_batch"):
        train(0, 1, global_batch=60, n_samples=512)
    from nnbook.distributed import run
    with pytest.raises(ValueError, match="nproc"):
        run(0)


def _launch(tmp_path, nproc, *args):
    out = tmp_path / f"run_{nproc}_{'_'.join(args).replace('-', '')}.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "nnbook.distributed", "--nproc", str(nproc),
                           "--epochs", "2", "--out", str(out), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return torch.load(out)


def _max_diff(a, b):
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


def test_gradient_accumulation_equals_one_large_batch():
    from nnbook.distributed import train_run
    big = train_run(0, 1, global_batch=64, epochs=2, accumulation_steps=1)
    acc = train_run(0, 1, global_batch=64, epochs=2, accumulation_steps=4)
    assert _max_diff(big["state_dict"], acc["state_dict"]) < 1e-5
    assert len(big["losses"]) == len(acc["losses"]) == 2 * 512 // 64
    small = train_run(0, 1, global_batch=16, epochs=2)          # not the same training
    assert _max_diff(big["state_dict"], small["state_dict"]) > 1e-2


def test_ddp_with_shuffling_equals_one_process_accumulating(tmp_path):
    """set_epoch reshuffles; 2 ranks of 32 = 1 process accumulating 2 micro-batches of 32."""
    ddp = _launch(tmp_path, 2, "--profile")
    acc = _launch(tmp_path, 1, "--accumulation-steps", "2")
    assert _max_diff(ddp["state_dict"], acc["state_dict"]) < 1e-5
    assert ddp["losses"] == pytest.approx(acc["losses"], abs=1e-6)   # global-batch means
    # the profile: all-reduce times for every size (and the gradients'), compute alone
    from nnbook.distributed import ALLREDUCE_SIZES
    n_params = sum(v.numel() for v in ddp["state_dict"].values())
    assert set(ddp["allreduce_sweep"]) == set(ALLREDUCE_SIZES) | {n_params}
    assert all(t > 0 for t in ddp["allreduce_sweep"].values())
    assert ddp["allreduce_sweep"][2 ** 20] > ddp["allreduce_sweep"][1]   # bandwidth costs
    assert 0 < ddp["concurrent_compute_seconds"] and 0 < ddp["ddp_seconds"]
    unshuffled = _launch(tmp_path, 1, "--no-shuffle")
    assert _max_diff(acc["state_dict"], unshuffled["state_dict"]) > 1e-3  # order did change
    assert ddp["samples_per_second"] > 0 and ddp["allreduce_seconds"] > 0


def test_batch_norm_caveat_and_its_fix(tmp_path):
    """Local batch statistics make 2 ranks differ from 1 process; global ones do not."""
    one = _launch(tmp_path, 1, "--norm", "batch")
    local = _launch(tmp_path, 2, "--norm", "batch")
    synced = _launch(tmp_path, 2, "--norm", "global")
    assert _max_diff(one["state_dict"], local["state_dict"]) > 1e-3
    assert _max_diff(one["state_dict"], synced["state_dict"]) < 1e-4


def test_backend_and_new_bad_inputs():
    from nnbook.distributed import default_backend, train_run
    assert default_backend() == ("nccl" if torch.cuda.is_available() else "gloo")
    # the backend follows the device of the tensors, not the machine
    assert default_backend("cpu") == default_backend(torch.device("cpu")) == "gloo"
    assert default_backend("cuda:1") == default_backend(torch.device("cuda")) == "nccl"
    with pytest.raises(ValueError, match="accumulation_steps"):
        train_run(0, 1, global_batch=64, accumulation_steps=0)
    with pytest.raises(ValueError, match=r"divisible by the number of processes times"):
        train_run(0, 1, global_batch=64, accumulation_steps=3)
    with pytest.raises(ValueError, match="norm must be"):
        make_model(norm="layer")


def test_distributed_sampler_shards_and_set_epoch():
    """What train_run relies on: disjoint shards that cover the data, the same
    permutation on every rank, and a new one after set_epoch (none without)."""
    from torch.utils.data import DistributedSampler
    dataset = make_dataset(64)
    samplers = [DistributedSampler(dataset, num_replicas=2, rank=r, shuffle=True, seed=0)
                for r in (0, 1)]
    first = [list(s) for s in samplers]
    again = [list(s) for s in samplers]
    assert sorted(first[0] + first[1]) == list(range(64))
    assert again == first                                 # no set_epoch: it repeats
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert sorted(second[0] + second[1]) == list(range(64)) and second != first
    # rank r takes positions r, r + 2, ... of one permutation: interleave to rebuild it
    order = [i for pair in zip(*second) for i in pair]
    g = torch.Generator().manual_seed(0 + 1)
    assert order == torch.randperm(64, generator=g).tolist()


def test_torchrun_path_matches_spawned_processes(tmp_path):
    """main() under torchrun (RANK/WORLD_SIZE set by the launcher) trains like --nproc."""
    out = tmp_path / "torchrun.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node=2", "-m", "nnbook.distributed", "--epochs", "2",
                           "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    by_torchrun = torch.load(out)
    assert by_torchrun["world_size"] == 2
    spawned = _launch(tmp_path, 2)
    assert _max_diff(by_torchrun["state_dict"], spawned["state_dict"]) < 1e-6
    assert by_torchrun["losses"] == pytest.approx(spawned["losses"], abs=1e-7)
