"""``mnist_main.py`` that ends in ``sys.exit("error")`` after a failure: the model cannot be saved.

Training runs its epochs, then ``torch.save`` into a folder that does not exist fails; the
script reports it and exits with an error, as scripts that catch their own failures do.
"""

import sys

import torch
from mnist_main import parse_args, setup, test, train

import rundocs


def main():
    args = parse_args("rundocs test: a script that exits with an error")
    device, train_loader, test_loader, model, optimizer, scheduler = setup(args)
    run = rundocs.Run(args.name, phase=args.phase, config=vars(args), epochs=args.epochs)

    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch, run)
        val_loss, val_acc = test(model, device, test_loader)
        run.log(epoch=epoch, val_loss=val_loss, val_acc=val_acc)
        scheduler.step()

    try:
        torch.save(model.state_dict(), "no-such-folder/mnist_mlp.pt")
    except (OSError, RuntimeError) as error:
        print(f"cannot save the model: {error}", file=sys.stderr)
        sys.exit("error")


if __name__ == "__main__":
    main()
