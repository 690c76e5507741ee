"""An Optuna search written the way optuna-examples ``pytorch/pytorch_simple.py`` writes one, without rundocs.

``objective(trial)`` suggests a model and an optimizer, trains for ``EPOCHS`` epochs counted
from 0, reports the validation accuracy each epoch, may be pruned, and returns the last
accuracy; the study maximises it. The study is kept in the storage given on the command line
(``python optuna_simple.py sqlite:///search.db my-study``) and imported afterwards with
``rundocs import optuna``. The data are random (seeded): nothing is downloaded.
"""

import sys

import optuna
import torch
import torch.nn.functional as F
from optuna.trial import TrialState
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

DEVICE = torch.device("cpu")
BATCHSIZE = 64
FEATURES, CLASSES = 20, 4
EPOCHS = 3
N_TRIALS = 10
N_TRAIN_EXAMPLES = BATCHSIZE * 8
N_VALID_EXAMPLES = 1000


def define_model(trial):
    hidden = trial.suggest_int("n_units", 4, 64, log=True)
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    return nn.Sequential(nn.Linear(FEATURES, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, CLASSES))


def get_data():
    generator = torch.Generator().manual_seed(0)
    teacher = torch.randn(FEATURES, CLASSES, generator=generator)
    n = N_TRAIN_EXAMPLES + N_VALID_EXAMPLES
    x = torch.randn(n, FEATURES, generator=generator)
    y = (x @ teacher + 0.5 * torch.randn(n, CLASSES, generator=generator)).argmax(dim=1)
    train = TensorDataset(x[:N_TRAIN_EXAMPLES], y[:N_TRAIN_EXAMPLES])
    valid = TensorDataset(x[N_TRAIN_EXAMPLES:], y[N_TRAIN_EXAMPLES:])
    return DataLoader(train, batch_size=BATCHSIZE, shuffle=True), DataLoader(valid, batch_size=BATCHSIZE)


def objective(trial):
    torch.manual_seed(trial.number)
    model = define_model(trial).to(DEVICE)
    optimizer_name = trial.suggest_categorical("optimizer", ["Adam", "RMSprop", "SGD"])
    lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
    optimizer = getattr(optim, optimizer_name)(model.parameters(), lr=lr)
    train_loader, valid_loader = get_data()

    for epoch in range(EPOCHS):
        model.train()
        for data, target in train_loader:
            data, target = data.to(DEVICE), target.to(DEVICE)
            optimizer.zero_grad()
            loss = F.nll_loss(F.log_softmax(model(data), dim=1), target)
            loss.backward()
            optimizer.step()

        model.eval()
        correct = 0
        with torch.no_grad():
            for data, target in valid_loader:
                pred = model(data.to(DEVICE)).argmax(dim=1)
                correct += pred.eq(target.to(DEVICE)).sum().item()
        accuracy = correct / N_VALID_EXAMPLES

        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.exceptions.TrialPruned()

    return accuracy


def run_study(storage, study_name, objective):
    study = optuna.create_study(
        direction="maximize", study_name=study_name, storage=storage, sampler=optuna.samplers.TPESampler(seed=6)
    )
    study.optimize(objective, n_trials=N_TRIALS)

    pruned = study.get_trials(deepcopy=False, states=[TrialState.PRUNED])
    complete = study.get_trials(deepcopy=False, states=[TrialState.COMPLETE])
    print("Study statistics: ")
    print("  Number of finished trials: ", len(study.trials))
    print("  Number of pruned trials: ", len(pruned))
    print("  Number of complete trials: ", len(complete))
    trial = study.best_trial
    print("Best trial:")
    print("  Number: ", trial.number)
    print("  Value: ", trial.value)
    for key, value in trial.params.items():
        print(f"    {key}: {value}")


if __name__ == "__main__":
    run_study(sys.argv[1], sys.argv[2], objective)
