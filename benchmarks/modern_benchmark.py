"""The numbers of chapter 12 (modern architectures), measured with the pages' settings.

    .venv/bin/python benchmarks/modern_benchmark.py [--steps N] [--seeds N] [--threads N]
                                                    [--skip NAMES]

Prints:

- the GPT's and the GRU's held-out bits per character on Flatland after the
  same number of steps of 2,048 training characters each (section 12.2's
  models), with their parameters and training times, beside the best
  n-gram model (orders 1-5);
- the key/value-cache speed-up for generating 200 characters with that GPT,
  and whether both ways give identical characters;
- the test accuracy of the ViT, the CNN (``SmallCNN``) and a linear model
  trained on 250, 1,000 and 4,000 digits for 500 steps each (section 12.4);
- the samples per second of data-parallel training with 1 and 2 processes
  (gloo, section 12.5's wider network), the all-reduce times by message
  size, and what compute alone plus one all-reduce predict for 2 processes.

``--skip gpt,vit,ddp`` leaves parts out. Times depend on the machine and its
load; the bits per character and the accuracies are reproducible.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import numpy as np  # noqa: E402
import torch  # noqa: E402


def gpt_vs_rnn(steps: int, seeds: int = 1) -> None:
    from nnbook.models.gpt import GPT, GPTConfig, evaluate_gpt, ngram_losses, train_gpt
    from nnbook.models.rnn import CharLanguageModel, CharVocab, train_char_model
    from nnbook.text import load_text, train_val_split

    text = load_text("flatland")
    train_text, val_text = train_val_split(text, val_fraction=0.1)
    vocab = CharVocab(text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    ln2 = np.log(2)
    print(f"== GPT vs GRU on Flatland: {steps} steps of 2,048 characters each ==")
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab_size=len(vocab), context=256, n_layer=2, n_head=4, n_embd=64,
                        positions="rope"))
    history = train_gpt(gpt, train_ids, steps=steps, batch_size=8, lr=1e-2, seed=0)
    gpt_bits = evaluate_gpt(gpt, val_ids) / ln2
    torch.manual_seed(0)
    rnn = CharLanguageModel(vocab, embed_size=32, hidden_size=160, cell="gru")
    start = time.perf_counter()
    rnn_history = train_char_model(rnn, train_ids, val_ids, steps=steps, seq_len=64,
                                   batch_size=32, lr=1e-2, clip=1.0, eval_every=steps,
                                   seed=0, print_every=0)
    rnn_seconds = time.perf_counter() - start
    rnn_bits = rnn_history["val_loss"][-1] / ln2
    ngram = {n: v / ln2 for n, v in ngram_losses(train_ids, val_ids, 5).items()}
    best = min(ngram, key=ngram.get)
    print(f"GPT: {gpt.num_parameters():,} parameters, {history['seconds']:.1f} s, "
          f"{gpt_bits:.3f} bits/char held out")
    print(f"GRU: {sum(p.numel() for p in rnn.parameters()):,} parameters, {rnn_seconds:.1f} s "
          f"(incl. evaluation), {rnn_bits:.3f} bits/char held out")
    print("n-gram: " + ", ".join(f"{n}-gram {b:.3f}" for n, b in ngram.items())
          + f" (best: {best}-gram)")
    print(f"winner at this budget: {'GPT' if gpt_bits < rnn_bits else 'GRU'} "
          f"(difference {abs(gpt_bits - rnn_bits):.3f} bits/char)")
    if seeds > 1:
        bits = {"GPT": [gpt_bits], "GRU": [rnn_bits]}
        for seed in range(1, seeds):
            torch.manual_seed(seed)
            model = GPT(GPTConfig(vocab_size=len(vocab), context=256, n_layer=2, n_head=4,
                                  n_embd=64, positions="rope"))
            train_gpt(model, train_ids, steps=steps, batch_size=8, lr=1e-2, seed=seed)
            bits["GPT"].append(evaluate_gpt(model, val_ids) / ln2)
            torch.manual_seed(seed)
            model = CharLanguageModel(vocab, embed_size=32, hidden_size=160, cell="gru")
            bits["GRU"].append(train_char_model(
                model, train_ids, val_ids, steps=steps, seq_len=64, batch_size=32, lr=1e-2,
                clip=1.0, eval_every=steps, seed=seed, print_every=0)["val_loss"][-1] / ln2)
        for name, values in bits.items():
            print(f"{name} over seeds 0-{seeds - 1}: {np.mean(values):.3f} +- "
                  f"{np.std(values, ddof=1):.3f} bits/char ("
                  + ", ".join(f"{v:.3f}" for v in values) + ")")

    print("== KV cache: 200 generated characters ==")
    prompt = torch.as_tensor(vocab.encode("Flatland"))[None]
    timings, outputs = {}, {}
    for use_cache in (False, True):
        best_time = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            outputs[use_cache] = gpt.generate(prompt, 200, 1.0, use_cache=use_cache,
                                              generator=torch.Generator().manual_seed(1))
            best_time = min(best_time, time.perf_counter() - start)
        timings[use_cache] = best_time
    print(f"without cache {timings[False]:.3f} s, with cache {timings[True]:.3f} s (best of 3): "
          f"speed-up {timings[False] / timings[True]:.2f}x; identical characters: "
          f"{torch.equal(outputs[True], outputs[False])}")


def vit_vs_cnn() -> None:
    from torch import nn

    from nnbook.data import load_mnist
    from nnbook.models import count_parameters
    from nnbook.models.cnn import SmallCNN
    from nnbook.models.vit import VisionTransformer, accuracy, train_image_classifier

    data = load_mnist()
    X_train, y_train = torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)
    X_test, y_test = torch.from_numpy(data.X_test), torch.from_numpy(data.y_test)
    print(f"== ViT vs CNN on digits ({data.source}, {len(y_test):,} test images), "
          "500 steps each ==")
    makers = {"linear": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)),
              "ViT": lambda: VisionTransformer(dim=32, depth=1, heads=4, mlp_ratio=2),
              "CNN": SmallCNN}
    for n in (250, 1000, 4000):
        cells = []
        for name, make in makers.items():
            torch.manual_seed(0)
            model = make()
            train_image_classifier(model, X_train[:n], y_train[:n], steps=500, lr=3e-3, seed=0)
            cells.append(f"{name} ({count_parameters(model):,} params) "
                         f"{accuracy(model, X_test, y_test):.1%}")
        print(f"{n:>5} training digits: " + ", ".join(cells))


def ddp_throughput() -> None:
    from nnbook.distributed import train_run

    print("== data-parallel throughput (gloo; hidden 256, global batch 256, 4,096 samples, "
          "10 epochs) ==")
    options = ["--epochs", "10", "--hidden", "256", "--global-batch", "256",
               "--n-samples", "4096", "--profile"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "two.pt"
        proc = subprocess.run([sys.executable, "-m", "nnbook.distributed", "--nproc", "2",
                               "--out", str(out), *options], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr)
        two = torch.load(out)
    one = train_run(0, 1, global_batch=256, epochs=10, hidden=256, n_samples=4096)
    n_steps = len(one["losses"])
    sweep = dict(two["allreduce_sweep"])
    t_gradients = sweep.pop(sum(v.numel() for v in one["state_dict"].values()))
    t_compute = two["concurrent_compute_seconds"] / n_steps
    predicted = 256 / (t_compute + t_gradients)   # compute of 2 concurrent ranks + all-reduce
    print(f"1 process: {one['samples_per_second']:,.0f} samples/s "
          f"({1e3 * one['seconds'] / n_steps:.2f} ms per step)")
    print(f"2 processes: {two['samples_per_second']:,.0f} samples/s "
          f"(compute alone + all-reduce predict {predicted:,.0f}; one all-reduce of the "
          f"gradients {1e3 * t_gradients:.2f} ms, compute alone {1e3 * t_compute:.2f} ms "
          f"per step)")
    print("all-reduce (median, ms) by float32 numbers: "
          + ", ".join(f"{n:,}: {1e3 * t:.3f}" for n, t in sorted(sweep.items())))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="GPT and GRU training steps")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=1,
                        help="seeds for the GPT and the GRU (1: seed 0 only, as on the page)")
    parser.add_argument("--skip", default="", help="comma-separated: gpt, vit, ddp")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - {"gpt", "vit", "ddp"}
    if unknown:
        parser.error(f"--skip takes gpt, vit, ddp; got {sorted(unknown)}")
    if "gpt" not in skip:
        gpt_vs_rnn(args.steps, args.seeds)
    if "vit" not in skip:
        vit_vs_cnn()
    if "ddp" not in skip:
        ddp_throughput()


if __name__ == "__main__":
    main()
