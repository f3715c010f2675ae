"""Models and Solvers of either implementation (or of a student's own lab folder, experiment/student.py) from a
Config, and the one ``predict`` all are scored with."""

from __future__ import annotations

import numpy as np

from common.config import Config, ConfigError
from common.init import initial_params
from common.lab_folder import is_student_impl
from common.preprocess import principal_directions

NUM_CLASSES = 10


def check_device(config: Config) -> None:
    """Raise ConfigError when the config's torch device is not available on this machine."""
    if config.impl == "torch" and config.device != "cpu":
        from torch_impl.model import resolve_device

        try:
            resolve_device(config.device)
        except (ValueError, RuntimeError) as err:
            raise ConfigError(f"--device: {err}") from None


def make_model(config: Config, X_train: np.ndarray, num_classes: int = NUM_CLASSES):
    """The network the config describes for inputs like X_train (N, ...), started from common.init's weights for
    its seed (the same in both implementations). With pca_components k, the net first projects onto the top k
    principal directions of X_train (common.preprocess.principal_directions, computed here once and given to
    either implementation)."""
    input_dim, projection = int(np.prod(X_train.shape[1:])), None
    if is_student_impl(config.impl):  # the student's own TwoLayerNet, its own initialization
        from experiment.student import make_student_model

        return make_student_model(
            config.impl,
            input_dim,
            config.hidden_size,
            num_classes,
            weight_scale=config.weight_scale,
            reg=config.reg,
            dtype=config.dtype,
            seed=config.seed,
        )
    if config.pca_components:
        projection = principal_directions(X_train, config.pca_components)
        input_dim = config.pca_components
    init = initial_params(input_dim, config.hidden_size, num_classes, config.weight_scale, config.dtype, config.seed)
    return model_from_params(
        config.impl, init, config.device, reg=config.reg, label_smoothing=config.label_smoothing, projection=projection
    )


def model_from_params(impl: str, params: dict[str, np.ndarray], device: str = "cpu", **options):
    """The network of either implementation holding lab-layout params (W1 (D, H), b1, W2 (H, C), b2): numpy_recipe's
    RecipeNet or torch_impl's TwoLayerNet (or a student folder's TwoLayerNet). options: reg, label_smoothing,
    projection (D, k) (then W1 is (k, H))."""
    if is_student_impl(impl):
        from experiment.student import student_model_from_params

        return student_model_from_params(impl, params, options.get("reg", 0.0))
    if impl == "numpy":
        from numpy_recipe import RecipeNet

        return RecipeNet(params, **options)
    import torch_impl
    from compare.adapter import torch_state

    (input_dim, hidden_dim), num_classes = params["W1"].shape, params["W2"].shape[1]
    model = torch_impl.TwoLayerNet(
        input_dim, hidden_dim, num_classes, dtype=params["W1"].dtype.name, device=device, **options
    )
    state = torch_state(params)
    if model.projection is not None:
        state["projection"] = model.projection
    model.load_state_dict(state)
    return model


def model_params(impl: str, model) -> dict[str, np.ndarray]:
    """The model's parameters in the lab's layout (what model.npz holds; a projection folded into W1), as NumPy."""
    if is_student_impl(impl):
        return {name: np.array(value) for name, value in model.params.items()}
    if impl == "numpy":
        return model.folded_params()
    from compare.adapter import lab_params
    from torch_impl.model import fold_projection

    return lab_params(fold_projection(model.state_dict()))


def best_params(impl: str, solver) -> dict[str, np.ndarray] | None:
    """The solver's best-validation parameters so far, lab layout (a projection folded into W1), without touching
    its model (None before any)."""
    if is_student_impl(impl):
        return {name: np.array(value) for name, value in solver.best_params.items()} if solver.best_params else None
    if impl == "numpy":
        return solver.model.folded_params(solver.best_params) if solver.best_params else None
    from compare.adapter import lab_params
    from torch_impl.model import fold_projection

    return None if solver.best_state is None else lab_params(fold_projection(solver.best_state))


def training_memory(config: Config, input_dim: int = 3 * 32 * 32, num_classes: int = NUM_CLASSES) -> int:
    """Bytes a training run of the config needs, roughly: the images, and the weights five times over
    (weights, gradients, update-rule state up to two copies, best weights) plus a batch's activations."""
    itemsize = np.dtype(config.dtype).itemsize
    weights = (input_dim + 1) * config.hidden_size + (config.hidden_size + 1) * num_classes
    activations = 4 * config.batch_size * (input_dim + config.hidden_size)
    images = 60_000 * input_dim + (config.num_train + 11_000) * input_dim * itemsize  # raw uint8 + the splits
    return 5 * weights * itemsize + activations * itemsize + images


def make_solver(config: Config, model, data: dict, **options):
    """The Solver of the config's implementation, with the config's training settings; options: hooks, verbose."""
    if is_student_impl(config.impl):  # the lab's Solver takes the lab's settings only (Config.check saw to that)
        from experiment.student import run_solver

        lab_settings = ("update_rule", "optim_config", "lr_decay", "batch_size", "num_epochs", "seed")
        settings = {name: value for name, value in config.solver_options().items() if name in lab_settings}
        return run_solver(config.impl, model, data, **settings, **options)
    if config.impl == "numpy":
        import numpy_recipe

        return numpy_recipe.Solver(model, data, **config.solver_options(), **options)
    import torch_impl

    return torch_impl.Solver(model, data, device=config.device, **config.solver_options(), **options)


def predict(impl: str, model, X: np.ndarray, tta: bool = False, batch_size: int = 1000) -> np.ndarray:
    """Class predictions (N,) for images X (N, 3, 32, 32), batch_size at a time.

    tta: average the scores of each image and its mirror image (flip test-time augmentation).
    """
    if impl != "torch":  # numpy_recipe's RecipeNet, or a student's TwoLayerNet: loss(X) gives the scores
        scores = model.loss
    else:
        import torch

        def scores(batch: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return model.eval()(torch.from_numpy(batch).to(model.device, model.dtype)).cpu().numpy()

    def batch_scores(batch: np.ndarray) -> np.ndarray:
        if not tta:
            return scores(batch)
        return 0.5 * (scores(batch) + scores(np.ascontiguousarray(batch[..., ::-1])))

    labels = [np.argmax(batch_scores(X[i : i + batch_size]), axis=1) for i in range(0, len(X), batch_size)]
    return np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)
