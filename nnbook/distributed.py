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
import time

from ._extras import require

torch = require("torch", "torch", "nnbook.distributed")
import torch.distributed as dist  # noqa: E402
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def make_dataset(n_samples: int = 512, n_features: int = 8, seed: int = 0) -> TensorDataset:
    """A fixed synthetic regression problem: ``y = sin(x . w) + noise``."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n_samples, n_features, generator=gen)
    w = torch.randn(n_features, generator=gen) / n_features ** 0.5
    y = torch.sin(X @ w * 2)[:, None] + 0.05 * torch.randn(n_samples, 1, generator=gen)
    return TensorDataset(X, y)


class GlobalBatchNorm1d(nn.BatchNorm1d):
    """Batch normalization whose batch statistics are taken over the *global*
    batch, across all ranks: what ``torch.nn.SyncBatchNorm`` does on GPUs
    (PyTorch's version refuses CPU tensors). Each rank all-reduces the sum and
    the sum of squares of its slice, with ``torch.distributed.nn.all_reduce``,
    which back-propagates through the reduction. In evaluation mode, or with a
    single process, it is an ordinary ``BatchNorm1d``."""

    def forward(self, x):
        if not self.training or not dist.is_initialized() or dist.get_world_size() == 1:
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce
        stats = torch.cat([x.sum(0), (x * x).sum(0),
                           x.new_tensor([float(x.shape[0])])])
        stats = all_reduce(stats)
        C = x.shape[1]
        n = stats[-1]
        mean = stats[:C] / n
        var = stats[C:2 * C] / n - mean * mean                 # biased, as BatchNorm uses
        with torch.no_grad():
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(var * n / (n - 1), self.momentum)
            self.num_batches_tracked += 1
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


def make_model(n_features: int = 8, hidden: int = 32, seed: int = 0,
               norm: str | None = None) -> nn.Module:
    """A small MLP, initialized from ``seed`` (the same on every rank).
    ``norm="batch"`` puts a ``BatchNorm1d`` after the first layer (statistics
    of the local slice), ``norm="global"`` a :class:`GlobalBatchNorm1d`."""
    if norm not in (None, "batch", "global"):
        raise ValueError(f"norm must be None, 'batch' or 'global', got {norm!r}")
    torch.manual_seed(seed)
    bn = {None: nn.Identity, "batch": nn.BatchNorm1d, "global": GlobalBatchNorm1d}[norm]
    layers = [nn.Linear(n_features, hidden)]
    layers += [bn(hidden)] if norm else []
    layers += [nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1)]
    return nn.Sequential(*layers)


def default_backend(device=None) -> str:
    """The backend for tensors on ``device``: ``"nccl"`` for CUDA tensors,
    ``"gloo"`` for CPU tensors (nccl cannot reduce CPU tensors, even on a GPU
    machine). Without a device: ``"nccl"`` if a GPU is available."""
    if device is None:
        return "nccl" if torch.cuda.is_available() else "gloo"
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def free_port() -> int:
    """A TCP port that is free right now on this machine."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_run(rank: int = 0, world_size: int = 1, *, global_batch: int = 64, epochs: int = 5,
              lr: float = 0.05, seed: int = 0, n_samples: int = 512, shuffle: bool = True,
              accumulation_steps: int = 1, norm: str | None = None, hidden: int = 32) -> dict:
    """Train on this rank's share of every global batch and return
    ``{"state_dict", "losses", "seconds", "samples_per_second"}``.

    Each rank's share of a global batch of ``B`` is ``B / world_size``
    samples, processed as ``accumulation_steps`` micro-batches whose
    gradients add up before one optimizer step: one process with
    ``accumulation_steps = R`` computes what ``R`` processes compute.
    ``shuffle`` reshuffles every epoch through ``DistributedSampler.set_epoch``
    (the same permutation on every rank, whatever the number of ranks).
    With ``world_size > 1`` the process group must already be initialized.
    """
    for name, v in (("global_batch", global_batch), ("accumulation_steps", accumulation_steps),
                    ("world_size", world_size), ("epochs", epochs)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if global_batch % (world_size * accumulation_steps):
        raise ValueError(f"global_batch ({global_batch}) must be divisible by the number "
                         f"of processes times accumulation_steps "
                         f"({world_size} x {accumulation_steps})")
    if n_samples % global_batch:
        raise ValueError(f"n_samples ({n_samples}) must be a multiple of global_batch "
                         f"({global_batch}) so that every step sees a full global batch")
    dataset = make_dataset(n_samples, seed=seed)
    micro_batch = global_batch // (world_size * accumulation_steps)
    # Rank r gets positions r, r + W, r + 2W, ... of the epoch's permutation, so
    # step k of all ranks together covers exactly the single process's batch k.
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank,
                                 shuffle=shuffle, seed=seed)
    loader = DataLoader(dataset, batch_size=micro_batch, sampler=sampler)
    model = make_model(seed=seed, norm=norm, hidden=hidden)
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(model)   # broadcasts rank 0's weights
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    start = time.perf_counter()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)     # a new permutation each epoch, the same on every rank
        batches = iter(loader)
        for _step in range(len(loader) // accumulation_steps):
            optimizer.zero_grad()
            step_loss = torch.zeros(())
            for micro in range(accumulation_steps):
                X, y = next(batches)
                # mean over the micro-batch, divided so that the gradients add up to
                # the gradient of the mean over this rank's share
                loss = nn.functional.mse_loss(model(X), y) / accumulation_steps
                last = micro == accumulation_steps - 1
                if world_size > 1 and not last:
                    with model.no_sync():        # all-reduce once, after the last one
                        loss.backward()
                else:
                    loss.backward()          # DDP all-reduces (averages) gradients here
                step_loss += loss.detach()
            optimizer.step()
            losses.append(step_loss.item())
    seconds = time.perf_counter() - start
    if world_size > 1:   # for reporting, the global-batch mean losses: one all-reduce
        losses_t = torch.tensor(losses)               # at the end, not one per step
        dist.all_reduce(losses_t)
        losses = (losses_t / world_size).tolist()
    module = model.module if world_size > 1 else model
    return {"state_dict": {k: v.detach().clone() for k, v in module.state_dict().items()},
            "losses": losses, "seconds": seconds,
            "samples_per_second": epochs * n_samples / seconds}


def train(rank: int = 0, world_size: int = 1, *, global_batch: int = 64, epochs: int = 5,
          lr: float = 0.05, seed: int = 0, n_samples: int = 512, **options) -> tuple[dict, list]:
    """:func:`train_run` without shuffling by default; returns ``(state_dict, losses)``."""
    options.setdefault("shuffle", False)
    result = train_run(rank, world_size, global_batch=global_batch, epochs=epochs, lr=lr,
                       seed=seed, n_samples=n_samples, **options)
    return result["state_dict"], result["losses"]


def allreduce_times(sizes, repeats: int = 31) -> dict:
    """Median wall time of one all-reduce of ``n`` float32 numbers, for each
    ``n`` in ``sizes``, on the current process group (call it on every rank).
    The sizes take turns, so that a burst of load on a shared machine slows
    them all alike; a barrier before each call keeps one call's tail on the
    other rank out of the next one's time; and the median ignores the calls
    that waited for a descheduled rank."""
    buffers = {int(n): torch.ones(int(n)) for n in sizes}
    times = {n: [] for n in buffers}
    for _ in range(repeats):
        for n, buffer in buffers.items():
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(buffer)
            times[n].append(time.perf_counter() - start)
    return {n: float(sorted(t)[repeats // 2]) for n, t in times.items()}


def allreduce_seconds(numel: int, repeats: int = 31) -> float:
    """Median wall time of one all-reduce of ``numel`` float32 numbers."""
    return allreduce_times([numel], repeats)[int(numel)]


ALLREDUCE_SIZES = (1, 2 ** 10, 2 ** 14, 2 ** 17, 2 ** 20)   # float32 numbers per message


def profile(rank: int, world_size: int, n_params: int, repeats: int = 3, **kwargs) -> dict:
    """Where a data-parallel step's time goes, measured on every rank at once.

    - ``"allreduce_sweep"``: message size (float32 numbers: those of
      ``ALLREDUCE_SIZES``, then ``n_params``) -> time of one all-reduce;
    - ``"concurrent_compute_seconds"``: the same training with no
      communication at all (each rank trains alone on a slice-sized batch,
      while the others do the same);
    - ``"ddp_seconds"``: the data-parallel training itself.

    Each training time is the slowest rank's, and the best of ``repeats``
    runs: on a shared machine, load only ever adds time.
    """
    sweep = allreduce_times(ALLREDUCE_SIZES + (n_params,))
    share = dict(kwargs)
    share["global_batch"] = kwargs.get("global_batch", 64) // world_size
    share["n_samples"] = kwargs.get("n_samples", 512) // world_size

    def slowest_rank(run) -> float:
        dist.barrier()
        seconds = torch.tensor(run()["seconds"])
        dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
        return seconds.item()

    compute = min(slowest_rank(lambda: train_run(0, 1, **share))   # alone, no group calls
                  for _ in range(repeats))
    ddp = min(slowest_rank(lambda: train_run(rank, world_size, **kwargs))
              for _ in range(repeats))
    return {"allreduce_sweep": sweep, "concurrent_compute_seconds": compute,
            "ddp_seconds": ddp}


def _worker(rank: int, world_size: int, port: int, out: str | None, kwargs: dict,
            with_profile: bool = False) -> None:
    """One spawned process: join the group, train, let rank 0 save the result."""
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    # this script keeps its tensors on the CPU, so gloo even on a GPU machine
    dist.init_process_group(default_backend("cpu"), rank=rank, world_size=world_size)
    try:
        result = train_run(rank, world_size, **kwargs)
        n_params = sum(v.numel() for v in result["state_dict"].values())
        result["allreduce_seconds"] = allreduce_seconds(n_params)
        if with_profile:
            result.update(profile(rank, world_size, n_params, **kwargs))
        if rank == 0 and out:
            torch.save({**result, "world_size": world_size}, out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def run(nproc: int = 1, out: str | None = None, with_profile: bool = False,
        **kwargs) -> None:
    """Train with ``nproc`` processes started by ``torch.multiprocessing``
    (or in this process when ``nproc == 1``) and save the result to ``out``;
    ``with_profile`` adds the timings of :func:`profile` (with ``nproc > 1``).
    Call it before this process has run any torch computation (it may fork)."""
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"nproc must be a positive integer, got {nproc!r}")
    if nproc == 1:
        result = train_run(0, 1, **kwargs)
        if out:
            torch.save({**result, "allreduce_seconds": 0.0, "world_size": 1}, out)
        return
    import torch.multiprocessing as mp
    # "fork" starts the children without importing torch again (seconds saved);
    # "spawn" is the portable choice on systems without fork.
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    mp.start_processes(_worker, args=(nproc, free_port(), out, kwargs, with_profile),
                       nprocs=nproc, join=True, start_method=method)


def main(argv=None) -> None:
    """Command-line entry point: parse ``argv`` and run the data-parallel training."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nproc", type=int, default=1,
                        help="processes to spawn (ignored under torchrun)")
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-samples", type=int, default=512)
    parser.add_argument("--accumulation-steps", type=int, default=1)
    parser.add_argument("--norm", choices=["none", "batch", "global"], default="none")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--no-shuffle", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="also time all-reduces of several sizes, and the training "
                             "with and without communication")
    parser.add_argument("--out", default=None, help="where rank 0 saves weights and losses")
    args = parser.parse_args(argv)
    kwargs = dict(global_batch=args.global_batch, epochs=args.epochs, lr=args.lr,
                  seed=args.seed, n_samples=args.n_samples, shuffle=not args.no_shuffle,
                  accumulation_steps=args.accumulation_steps, hidden=args.hidden,
                  norm=None if args.norm == "none" else args.norm)
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:    # started by torchrun
        torch.set_num_threads(1)
        rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        # the tensors stay on the CPU: gloo (reads MASTER_ADDR and MASTER_PORT)
        dist.init_process_group(default_backend("cpu"))
        try:
            result = train_run(rank, world_size, **kwargs)
            if rank == 0 and args.out:
                torch.save({**result, "world_size": world_size}, args.out)
            dist.barrier()
        finally:
            dist.destroy_process_group()
    else:
        # import the worker under this module's real name so that spawned
        # children can find it, also when this file runs as __main__
        from nnbook.distributed import run as _run
        _run(args.nproc, args.out, with_profile=args.profile, **kwargs)
    world_size = int(os.environ.get("WORLD_SIZE", args.nproc))
    if int(os.environ.get("RANK", 0)) == 0:
        print(f"trained with {world_size} process(es); weights saved to {args.out}",
              file=sys.stdout)


if __name__ == "__main__":
    main()
