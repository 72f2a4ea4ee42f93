"""Settings of the block model: :class:`ModelConfig`, built from the ``[boilerplate]`` table
of an experiment config, and the text-only model's variant of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from honbun.boilerplate.rules import RULE_NAMES
from honbun.features.blocks import FeatureConfig

DENSE_CLIP = 5.0  # scaled dense features are clipped to +-this for the linear model
STAGE1_KINDS = ("linear", "hgb", "both")
LINEAR_SOLVERS = ("sgd", "lbfgs")
MIN_COUNTS = {"linear_seeds": 1, "inner_folds": 2, "stack_rounds": 1}  # count settings' minimum


def _stack_variants(value: Any, refit: bool) -> tuple[tuple[int, int], ...]:
    """``stack_variants`` from the config: ``[[rounds, inner folds], ...]``, checked."""
    out = []
    for item in value:
        if (
            len(item) != 2
            or int(item[0]) < MIN_COUNTS["stack_rounds"]
            or int(item[1]) < MIN_COUNTS["inner_folds"]
        ):
            raise ValueError(
                f"[boilerplate] stack_variants are [rounds >= 1, inner folds >= 2]: {item}"
            )
        out.append((int(item[0]), int(item[1])))
    if out and not refit:
        raise ValueError("[boilerplate] stack_variants need refit = true")
    return tuple(out)


@dataclass
class ModelConfig:
    """Settings of the block model; built from the ``[boilerplate]`` config table."""

    model: str = "stacked"  # "logreg" | "hgb" | "stacked"
    features: FeatureConfig = field(default_factory=FeatureConfig)
    lexical: bool = True
    repetition: bool = True
    threshold: float = 0.5
    C: float = 5.0  # stage-1 inverse regularisation (SGD alpha = 1 / (C * n_blocks))
    hgb_max_iter: int = 150
    hgb_learning_rate: float = 0.1
    hgb_max_leaf_nodes: int = 31
    hgb_max_bins: int = 63
    hgb_l2: float = 1.0
    seed: int = 13
    # Loss weights. The article score is over characters, so a block weighs by its length
    # relative to its page's mean (length_weight 1.0); body blocks count twice (pos_weight)
    # because a missed paragraph costs more than a kept caption. Grouped 10-fold by site:
    # char3 F1 0.844 -> 0.914 with both and min_body (see README, "How it works").
    pos_weight: float = 2.0  # weight of body blocks in the gradient-boosting loss
    length_weight: float = 1.0  # sample weight grows as (block chars / page mean) ** this
    tune_threshold: bool = True  # tune stage 2's threshold on its out-of-fold scores
    stage1: str = "linear"  # stacked stage 1: "linear" | "hgb" (dense only) | "both"
    linear_solver: str = "sgd"  # "sgd" (averaged SGD) | "lbfgs" (exact, seed-free optimum)
    linear_seeds: int = 1  # SGD runs whose weights the linear model averages (sgd only)
    # Decision rules after the model (honbun.boilerplate.rules.RULES), by name: all on
    # unless switched off here.
    rules: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(RULE_NAMES, True))
    stage2_neighbours: bool = True  # stage 2 also sees the neighbours' dense features
    # Share of a plain gradient-boosted model on the dense features (the "hgb" model) in
    # the stacked model's body probability, averaged in before the rules (0: stacked only).
    blend_hgb: float = 0.0
    refit: bool = True  # refit both stages on all pages; False: average the inner-fold models
    # Stacking rounds (auto-context): round r's gradient boosting sees the window, group and
    # container features of the scores of every earlier round, latest first (1: stage 2 only).
    stack_rounds: int = 1
    inner_folds: int = 3  # grouped folds (by site) for the out-of-fold scores stages learn from
    # Further stacks, (rounds, inner folds) each, fitted over the same stage 1 and averaged
    # with the one above: each split of the sites behind the out-of-fold scores moves whole
    # pages its own way, and the average moves fewer (empty: the one stack only).
    stack_variants: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any], seed: int = 13) -> ModelConfig:
        d = dict(d)
        feats = FeatureConfig.from_dict(d.pop("features", {}))
        # A rule is switched in [boilerplate.rules], or (as configs before the table did)
        # by its name in [boilerplate] itself.
        switches = dict.fromkeys(RULE_NAMES, True)
        for name, on in {
            **{k: d.pop(k) for k in RULE_NAMES if k in d},
            **d.pop("rules", {}),
        }.items():
            if name not in switches:
                raise ValueError(
                    f"[boilerplate.rules] unknown rule {name!r} (rules: {', '.join(RULE_NAMES)})"
                )
            switches[name] = bool(on)
        known = set(cls.__dataclass_fields__) - {"features", "rules"}
        bad = set(d) - known
        if bad:
            raise ValueError(f"[boilerplate] unknown settings: {sorted(bad)}")
        d.setdefault("seed", seed)
        if d.get("model", "stacked") not in ("logreg", "hgb", "stacked"):
            raise ValueError(f"[boilerplate] model must be logreg, hgb or stacked: {d['model']}")
        if not 0.0 <= float(d.get("blend_hgb", 0.0)) < 1.0:
            raise ValueError(f"[boilerplate] blend_hgb must be in [0, 1): {d['blend_hgb']}")
        for key, low in MIN_COUNTS.items():  # the defaults all meet their minimum
            if key in d and int(d[key]) < low:
                raise ValueError(f"[boilerplate] {key} must be >= {low}: {d[key]}")
        if d.get("linear_solver", "sgd") not in LINEAR_SOLVERS:
            raise ValueError(
                f"[boilerplate] linear_solver must be one of {LINEAR_SOLVERS}: {d['linear_solver']}"
            )
        if d.get("linear_solver") == "lbfgs" and int(d.get("linear_seeds", 1)) != 1:
            raise ValueError("[boilerplate] linear_seeds is for linear_solver = 'sgd' only")
        if d.get("stage1", "linear") not in STAGE1_KINDS:
            raise ValueError(f"[boilerplate] stage1 must be one of {STAGE1_KINDS}: {d['stage1']}")
        if "stack_variants" in d:
            d["stack_variants"] = _stack_variants(d["stack_variants"], d.get("refit", True))
        return cls(features=feats, rules=switches, **d)


# ---------------------------------------------------------------- body vs boilerplate
def text_model_config(section: dict[str, Any], text: dict[str, Any], seed: int) -> Any:
    """The text-only model's ModelConfig: the ``[boilerplate]`` settings without DOM
    features, with those of ``[boilerplate.text]`` on top."""
    features = {**section.get("features", {}), "dom": False}
    return ModelConfig.from_dict({**section, **text, "features": features}, seed)
