"""Data-parallel training with ``torch.distributed``, on CPU with the gloo backend.

Every process (a *rank*) holds a full copy of the model and sees a different
slice of each global batch. ``DistributedDataParallel`` averages the
gradients of all ranks (an *all-reduce*) during ``backward``, so every rank
takes the same optimizer step, and the replicas stay identical. With a
global batch of ``B`` split into ``world_size`` slices of ``B / world_size``
samples, the averaged gradient is the gradient of the mean loss over the
global batch: training on ``world_size`` processes computes what training on
one process with batch ``B`` computes, up to floating-point rounding.

Run it from a shell::

    python -m nnbook.distributed --nproc 2 --out weights_2.pt
    python -m nnbook.distributed --nproc 1 --out weights_1.pt

or under ``torchrun`` (which starts the processes and sets ``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``), on one machine or
several::

    torchrun --nproc_per_node=2 -m nnbook.distributed --out weights.pt
    torchrun --nnodes=2 --nproc_per_node=4 --rdzv_backend=c10d \\
        --rdzv_endpoint=HOST:29500 -m nnbook.distributed --out weights.pt
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def make_dataset(n_samples: int = 512, n_features: int = 8, seed: int = 0) -> TensorDataset:
    """A fixed synthetic regression problem: ``y = sin(x . w) + noise``."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n_samples, n_features, generator=gen)
    w = torch.randn(n_features, generator=gen) / n_features ** 0.5
    y = torch.sin(X @ w * 2)[:, None] + 0.05 * torch.randn(n_samples, 1, generator=gen)
    return TensorDataset(X, y)


def make_model(n_features: int = 8, hidden: int = 32, seed: int = 0) -> nn.Module:
    """A small MLP, initialized from ``seed`` (the same on every rank)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh(),
                         nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def free_port() -> int:
    """A TCP port that is free right now on this machine."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train(rank: int = 0, world_size: int = 1, *, global_batch: int = 64, epochs: int = 5,
          lr: float = 0.05, seed: int = 0, n_samples: int = 512) -> tuple[dict, list[float]]:
    """Train on this rank's share of every global batch; return the final
    ``state_dict`` and the loss of each step (mean over the global batch).

    With ``world_size > 1`` the process group must already be initialized.
    """
    if global_batch % world_size:
        raise ValueError(f"global_batch ({global_batch}) must be divisible by the number "
                         f"of processes ({world_size})")
    dataset = make_dataset(n_samples, seed=seed)
    if n_samples % global_batch:
        raise ValueError(f"n_samples ({n_samples}) must be a multiple of global_batch "
                         f"({global_batch}) so that every step sees a full global batch")
    local_batch = global_batch // world_size
    # Rank r gets samples r, r + W, r + 2W, ...: step k of all ranks together
    # covers exactly samples k*B ... (k+1)*B - 1, the single process's batch k.
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=False)
    loader = DataLoader(dataset, batch_size=local_batch, sampler=sampler)
    model = make_model(seed=seed)
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(model)   # broadcasts rank 0's weights
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _epoch in range(epochs):
        for X, y in loader:
            loss = nn.functional.mse_loss(model(X), y)   # mean over the local batch
            optimizer.zero_grad()
            loss.backward()          # DDP all-reduces (averages) the gradients here
            optimizer.step()
            step_loss = loss.detach().clone()
            if world_size > 1:       # for reporting only: the global-batch mean loss
                dist.all_reduce(step_loss)
                step_loss /= world_size
            losses.append(step_loss.item())
    module = model.module if world_size > 1 else model
    return {k: v.detach().clone() for k, v in module.state_dict().items()}, losses


def _worker(rank: int, world_size: int, port: int, out: str | None, kwargs: dict) -> None:
    """One spawned process: join the group, train, let rank 0 save the result."""
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        state, losses = train(rank, world_size, **kwargs)
        if rank == 0 and out:
            torch.save({"state_dict": state, "losses": losses, "world_size": world_size}, out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def run(nproc: int = 1, out: str | None = None, **kwargs) -> None:
    """Train with ``nproc`` processes started by ``torch.multiprocessing``
    (or in this process when ``nproc == 1``) and save the result to ``out``.
    Call it before this process has run any torch computation (it may fork)."""
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"nproc must be a positive integer, got {nproc!r}")
    if nproc == 1:
        state, losses = train(0, 1, **kwargs)
        if out:
            torch.save({"state_dict": state, "losses": losses, "world_size": 1}, out)
        return
    import torch.multiprocessing as mp
    # "fork" starts the children without importing torch again (seconds saved);
    # "spawn" is the portable choice on systems without fork.
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    mp.start_processes(_worker, args=(nproc, free_port(), out, kwargs), nprocs=nproc,
                       join=True, start_method=method)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nproc", type=int, default=1,
                        help="processes to spawn (ignored under torchrun)")
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-samples", type=int, default=512)
    parser.add_argument("--out", default=None, help="where rank 0 saves weights and losses")
    args = parser.parse_args(argv)
    kwargs = dict(global_batch=args.global_batch, epochs=args.epochs, lr=args.lr,
                  seed=args.seed, n_samples=args.n_samples)
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:    # started by torchrun
        torch.set_num_threads(1)
        rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        dist.init_process_group("gloo")                        # reads MASTER_ADDR/PORT
        try:
            state, losses = train(rank, world_size, **kwargs)
            if rank == 0 and args.out:
                torch.save({"state_dict": state, "losses": losses,
                            "world_size": world_size}, args.out)
            dist.barrier()
        finally:
            dist.destroy_process_group()
    else:
        # import the worker under this module's real name so that spawned
        # children can find it, also when this file runs as __main__
        from nnbook.distributed import run as _run
        _run(args.nproc, args.out, **kwargs)
    world_size = int(os.environ.get("WORLD_SIZE", args.nproc))
    if int(os.environ.get("RANK", 0)) == 0:
        print(f"trained with {world_size} process(es); weights saved to {args.out}",
              file=sys.stdout)


if __name__ == "__main__":
    main()
