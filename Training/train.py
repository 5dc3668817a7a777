#!/usr/bin/python3
"""Trains the fusion UNet (hzsr_fusion/model.py) on random crops of simulated capture sets.

    /usr/bin/python3 Training/train.py --sets .cache/sets/train --out .cache/training/run \
        --validate .cache/sets/eval

Writes to --out: checkpoint.pt (model, optimiser, schedule, sampler state: a run resumes where it
stopped when started again with the same --out), log.csv (averaged loss terms every
--log-every steps, with the learning rate and elapsed seconds), validation.csv, curves.svg.
Adam, the learning rate rising linearly over --warmup steps, then a cosine decay to --lr/100;
starting weights from hzsr_fusion/initialisation.py; seeds fixed for torch, numpy and random.
"""
import argparse
import math
import os
import random
import sys
import time

# OpenMP threads that spin while they wait turn a core taken by another process into 20× slower
# steps (measured on the shared 2-core machine); passive waiting costs little when it is idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402  (after the OpenMP setting, which is read when torch loads)
import torch  # noqa: E402

from hzsr_fusion.classical import fused
from hzsr_fusion.curves import CsvLog, write_svg
from hzsr_fusion.data import CropSampler, load_sets, split_set
from hzsr_fusion.safetensors_io import load_file
from hzsr_fusion.initialisation import initialise
from hzsr_fusion.losses import fusion_loss
from hzsr_fusion.model import ARCHITECTURE, MULTIPLE, FusionUNet
from hzsr_fusion.validation import Validator, format_scores

LOSS_FIELDS = ["step", "lr", "loss", "charbonnier", "laplacian", "brightness", "seconds"]
# What a checkpoint must agree on with the command line to be resumed.
SETTINGS = ("sets", "steps", "batch", "crop", "lr", "warmup", "seed", "init", "minutes")
VALIDATION_FIELDS = ["step"] + [f"{m}_{k}" for m in ("source", "classical", "network") for k in ("psnr", "ssim")]


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", required=True, help="training capture sets (split 'train')")
    parser.add_argument("--steps", type=int, default=36000)
    parser.add_argument("--minutes", type=float, help="also stop after this much training time, the learning "
                        "rate's decay spread over it (for a machine lent for a fixed time)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop", type=int, default=256, help=f"crop side, a multiple of {MULTIPLE}")
    parser.add_argument("--lr", type=float, default=5e-4, help="peak Adam learning rate")
    parser.add_argument("--warmup", type=int, default=500, help="steps of linear learning-rate warm-up")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--init", metavar="MODEL", help="start from these weights (a safetensors file export.py wrote), "
                        "not from the classical-fusion start")
    parser.add_argument("--out", required=True, help="folder for the checkpoint and logs")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; 1 is fastest while other jobs share the 2 cores")
    parser.add_argument("--device", default="cpu", help="where to train: cpu, or cuda on a GPU machine")
    parser.add_argument("--validate", metavar="SET", help="score the network on this set's whole frames")
    parser.add_argument("--validate-every", type=int, default=4000)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--require-decrease", action="store_true",
                        help="exit 1 unless the last logged average loss is below the first")
    args = parser.parse_args(argv)
    if args.crop % MULTIPLE:
        parser.error(f"--crop must be a multiple of {MULTIPLE}")
    for folder in args.sets:
        if split_set(folder) != "train":
            parser.error(f"{folder} is a '{split_set(folder)}' set: train on training photos only")
    return args


def progress(args, step, seconds):
    """How much of the run is done, 0 to 1: of its steps, or of its minutes if that is more."""
    done = step / args.steps
    return max(done, seconds / (60 * args.minutes)) if args.minutes else done


def learning_rate_factor(args, step, seconds=0.0):
    """Linear warm-up (a zero-initialised head under Adam needs it, see initialisation.py),
    then a cosine from 1 to 1/100 over the rest of the run (steps, or minutes if they end first)."""
    if step < args.warmup:
        return (step + 1) / args.warmup
    start = progress(args, args.warmup, 0.0)
    decayed = (progress(args, step, seconds) - start) / max(1.0 - start, 1e-9)
    return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(decayed, 1.0)))


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Run:
    """The training state that a checkpoint holds."""

    def __init__(self, args, sampler):
        self.args, self.sampler = args, sampler
        self.model = FusionUNet().to(args.device)
        initialise(self.model, sampler.next_batch()[0])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=args.lr)
        self.step, self.seconds, self.validation = 0, 0.0, []
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: learning_rate_factor(args, step, self.seconds))
        self.path = os.path.join(args.out, "checkpoint.pt")

    def save(self):
        state = {
            "architecture": ARCHITECTURE, "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict(),
            "sampler": self.sampler.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
            "step": self.step, "seconds": self.seconds, "validation": self.validation,
            "settings": self.settings(),
        }
        torch.save(state, self.path + ".tmp")
        os.replace(self.path + ".tmp", self.path)  # a crash mid-save keeps the previous one

    def settings(self):
        return {name: getattr(self.args, name) for name in SETTINGS}

    def resume(self):
        """Loads the checkpoint in --out if there is one; returns whether it did."""
        if not os.path.exists(self.path):
            return False
        state = torch.load(self.path)
        if state["settings"] != self.settings():
            sys.exit(f"{self.path} was made with {state['settings']}, not {self.settings()}: "
                     "use another --out, or delete it to start over")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.sampler.rng.bit_generator.state = state["sampler"]
        torch.set_rng_state(state["torch_rng"])
        self.step, self.seconds, self.validation = state["step"], state["seconds"], state["validation"]
        return True

    def train_step(self):
        inputs, base, target = self.sampler.next_batch()
        output = fused(self.model, inputs, base)
        loss, terms = fusion_loss(output, target, inputs)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.schedule.step()
        self.step += 1
        return {"loss": loss.detach(), **terms}

    def finished(self):
        return progress(self.args, self.step, self.seconds) >= 1


def validate(run, validator, log):
    scores = validator.run(run.model)
    print(f"validation at step {run.step}: {format_scores(scores)}", flush=True)
    row = {"step": run.step, **{f"{m}_{k}": v for m, s in scores.items() for k, v in s.items()}}
    run.validation.append(row)
    log.append(row)


def train(args):
    torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = True  # every batch has the same shape
    seed_everything(args.seed)
    os.makedirs(args.out, exist_ok=True)
    captures = load_sets(args.sets)
    sampler = CropSampler(captures, args.crop, args.batch, args.seed, device=args.device)
    print(f"{len(sampler.captures)} captures ({sampler.skipped(captures)} smaller than the crop skipped), "
          f"{args.batch}×{args.crop}² crops, {args.steps} steps", flush=True)
    run = Run(args, sampler)
    if run.resume():
        print(f"resumed at step {run.step}", flush=True)
    elif args.init:
        run.model.load_state_dict({name: torch.from_numpy(array.copy()) for name, array in load_file(args.init).items()})
        print(f"started from {args.init}", flush=True)
    losses = CsvLog(os.path.join(args.out, "log.csv"), LOSS_FIELDS)
    validations = CsvLog(os.path.join(args.out, "validation.csv"), VALIDATION_FIELDS)
    validator = Validator(args.validate, args.device) if args.validate else None
    if validator and run.step == 0:
        validate(run, validator, validations)

    window, started = [], time.time() - run.seconds
    while not run.finished():
        window.append(run.train_step())
        run.seconds = time.time() - started
        last = run.finished()
        if run.step % args.log_every == 0 or last:
            # The terms stay on the device until here: reading each step's would wait for it.
            row = {name: torch.stack([w[name] for w in window]).mean().item() for name in window[0]}
            losses.append({"step": run.step, "lr": run.schedule.get_last_lr()[0], "seconds": run.seconds, **row})
            print(f"step {run.step}  loss {row['loss']:.5f}  ({run.seconds / run.step:.3f} s/step)", flush=True)
            window = []
        if validator and (run.step % args.validate_every == 0 or last):
            validate(run, validator, validations)
        if run.step % args.validate_every == 0 or last:
            run.save()
            write_svg(os.path.join(args.out, "curves.svg"), losses.rows(), validations.rows())
    return losses.rows()


def loss_decreased(rows):
    first, last = rows[0]["loss"], rows[-1]["loss"]
    print(f"average loss: first {first:.5f}, last {last:.5f}", flush=True)
    return last < first


def main():
    args = parse_arguments()
    rows = train(args)
    if args.require_decrease and not loss_decreased(rows):
        sys.exit("the loss did not go down")


if __name__ == "__main__":
    main()
