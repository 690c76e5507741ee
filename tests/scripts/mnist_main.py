"""A classifier trained the way pytorch/examples ``mnist/main.py`` trains one, recorded with rundocs.

The only rundocs lines are the ``import``, ``rundocs.Run(...)`` in ``main()`` (no ``with``, never
ended: the program's exit ends it) and the ``run.log`` calls: per step in ``train``, per epoch
after ``test``. The data are random (seeded) so that nothing is downloaded; the model is a
two-layer MLP so that a run takes about a second on a CPU.

``--pause-after-epoch`` stands for a long job: after that epoch the script says so on stdout
and waits, to be killed there (SLURM's time limit sends SIGTERM).
"""

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

import rundocs

FEATURES, CLASSES = 20, 4


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(FEATURES, 32)
        self.fc2 = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def synthetic_digits(n_train, n_test, seed=0):
    """Points labelled by a fixed random linear teacher: learnable, but not in one epoch."""
    generator = torch.Generator().manual_seed(seed)
    teacher = torch.randn(FEATURES, CLASSES, generator=generator)
    x = torch.randn(n_train + n_test, FEATURES, generator=generator)
    y = (x @ teacher + 0.5 * torch.randn(n_train + n_test, CLASSES, generator=generator)).argmax(dim=1)
    return TensorDataset(x[:n_train], y[:n_train]), TensorDataset(x[n_train:], y[n_train:])


def train(args, model, device, train_loader, optimizer, epoch, run):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            step = (epoch - 1) * len(train_loader) + batch_idx
            print(
                f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}"
                f" ({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}"
            )
            run.log(step=step, train_loss=loss.item())
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    accuracy = correct / len(test_loader.dataset)
    print(f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_loader.dataset)}\n")
    return test_loss, accuracy


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--batch-size", type=int, default=64, metavar="N")
    parser.add_argument("--test-batch-size", type=int, default=256, metavar="N")
    parser.add_argument("--epochs", type=int, default=3, metavar="N")
    parser.add_argument("--lr", type=float, default=1.0, metavar="LR")
    parser.add_argument("--gamma", type=float, default=0.7, metavar="M")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--log-interval", type=int, default=2, metavar="N")
    parser.add_argument("--save-model", action="store_true")
    parser.add_argument("--name", default=None, help="rundocs: name of the run")
    parser.add_argument("--phase", default=None, help="rundocs: phase of the run")
    parser.add_argument("--restarts", default=None, help="rundocs: id of the run this one relaunches")
    parser.add_argument("--pause-after-epoch", type=int, default=None, metavar="N")
    return parser.parse_args()


def setup(args):
    torch.manual_seed(args.seed)
    device = torch.device("cpu")
    train_set, test_set = synthetic_digits(512, 256)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=args.test_batch_size)
    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    return device, train_loader, test_loader, model, optimizer, scheduler


def pause_here(args, epoch):
    if epoch == args.pause_after_epoch:
        print(f"paused after epoch {epoch}", flush=True)
        time.sleep(120)


def main():
    args = parse_args("rundocs test: pytorch/examples-style training")
    device, train_loader, test_loader, model, optimizer, scheduler = setup(args)
    run = rundocs.Run(args.name, phase=args.phase, config=vars(args), epochs=args.epochs, restarts=args.restarts)

    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch, run)
        val_loss, val_acc = test(model, device, test_loader)
        run.log(epoch=epoch, val_loss=val_loss, val_acc=val_acc)
        scheduler.step()
        pause_here(args, epoch)

    if args.save_model:
        torch.save(model.state_dict(), "mnist_mlp.pt")


if __name__ == "__main__":
    main()
