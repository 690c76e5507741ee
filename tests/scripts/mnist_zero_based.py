"""``mnist_main.py`` with epochs counted from 0, as many scripts count them.

``for epoch in range(args.epochs)`` and ``epochs=args.epochs``: a run that finishes every
planned epoch logs epochs 0 to ``epochs - 1``.
"""

import torch.nn.functional as F
from mnist_main import parse_args, setup, test

import rundocs


def train(args, model, device, train_loader, optimizer, epoch, run):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(
                f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}]\tLoss: {loss.item():.6f}"
            )
            run.log(step=epoch * len(train_loader) + batch_idx, train_loss=loss.item())


def main():
    args = parse_args("rundocs test: epochs counted from 0")
    device, train_loader, test_loader, model, optimizer, scheduler = setup(args)
    run = rundocs.Run(args.name, phase=args.phase, config=vars(args), epochs=args.epochs)

    for epoch in range(args.epochs):
        train(args, model, device, train_loader, optimizer, epoch, run)
        val_loss, val_acc = test(model, device, test_loader)
        run.log(epoch=epoch, val_loss=val_loss, val_acc=val_acc)
        scheduler.step()


if __name__ == "__main__":
    main()
