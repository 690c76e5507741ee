"""``mnist_main.py`` whose last line raises: ``torch.save`` into a folder that does not exist, uncaught."""

import torch
from mnist_main import parse_args, setup, test, train

import rundocs


def main():
    args = parse_args("rundocs test: a script that dies of an uncaught exception")
    device, train_loader, test_loader, model, optimizer, scheduler = setup(args)
    run = rundocs.Run(args.name, phase=args.phase, config=vars(args), epochs=args.epochs)

    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch, run)
        val_loss, val_acc = test(model, device, test_loader)
        run.log(epoch=epoch, val_loss=val_loss, val_acc=val_acc)
        scheduler.step()

    torch.save(model.state_dict(), "no-such-folder/mnist_mlp.pt")


if __name__ == "__main__":
    main()
