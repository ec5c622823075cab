"""ModelCIF categories of a predicted model (the ``ma_`` tables of AlphaFold/ModelArchive files).

Adds to an mmCIF block written by gemmi: the software (``_software``, ``_ma_software_group``),
the target and model data (``_ma_data``, ``_ma_data_group``, ``_ma_target_entity``,
``_ma_target_entity_instance``), the protocol (``_ma_protocol_step``: secondary structure,
starting candidate or template search, diffusion modelling, clean-up, relaxation), the model
(``_ma_model_list``, ``_ma_model_group``), template references (``_ma_template_details``,
``_ma_template_ref_db_details``, ``_ma_template_trans_matrix``) and the confidence
(``_ma_qa_metric``: mean pLDDT and pTM global, pLDDT per residue in ``_ma_qa_metric_local``,
equal to the B-factors). Names follow the ModelCIF dictionary (``mmcif_ma.dic``) as written by
python-modelcif, which reads these files back (tests).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import gemmi

from rnapredict import __version__
from rnapredict.io.mmcif import set_struct

MA_DICT = ("mmcif_ma.dic", "1.4.9")
#: Categories of a ModelCIF file that gemmi does not write (``export`` copies them).
MA_PREFIXES = ("_ma_", "_audit_conform.", "_software.")

_SS_SOURCES = {
    "input": "given in the input",
    "vienna": "ViennaRNA minimum free energy structure",
    "vienna-sample": "ViennaRNA Boltzmann sample",
}
_CANDIDATES = {
    "assembly": "helices and loops assembled from the motif library",
    "aform": "ideal A-form helices",
}


@dataclass(frozen=True)
class ModelProvenance:
    """How one predicted model was made, for its ModelCIF protocol and global metrics.

    Attributes:
        ss: dot-bracket the model was built from; ss_source: ``input``, ``vienna``,
            ``vienna-sample`` (confidence.json's wording).
        prior: the model's ``model_prior`` entry (``source``, template fields, notes).
        ptm: pTM-like score (0-1), or None.
        model_version: the network's version string.
        probing: secondary structure guided by ``--shape``/``--dms`` data.
        cleanup: all-atom clash clean-up ran; relax: the ``--relax`` report, or None.
    """

    ss: str
    ss_source: str
    prior: Mapping[str, Any] = field(default_factory=dict)
    ptm: float | None = None
    model_version: str = ""
    probing: bool = False
    cleanup: bool = True
    relax: Mapping[str, Any] | None = None


def _q(value: object) -> str:
    """One mmCIF value: ``?`` for None, quoted text otherwise."""
    return "?" if value is None else gemmi.cif.quote(str(value))


def _loop(block: gemmi.cif.Block, cat: str, tags: Sequence[str], rows: Sequence[Sequence]) -> None:
    loop = block.init_loop(cat, list(tags))
    for row in rows:
        loop.add_row([_q(v) for v in row])


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _software(info: ModelProvenance) -> list[tuple[str, str, str, str | None]]:
    """``[(name, classification, description, version)]``; id = position + 1."""
    out = [("rnapredict", "model building", "RNA 3D structure prediction", __version__)]
    if info.ss_source.startswith("vienna"):
        out.append(("ViennaRNA", "other", "secondary structure prediction", _version("viennarna")))
    if info.relax is not None:
        out.append(("OpenMM", "model building", "energy minimisation", _version("openmm")))
    return out


def _steps(info: ModelProvenance, sw: Sequence[str], tmpl: bool) -> list[tuple]:
    """Protocol steps ``(method_type, name, details, software group, input group, output group)``.
    Data groups: 1 target, 2 target + templates, 3 model, 4 templates."""
    ours = str(sw.index("rnapredict") + 1)
    vienna = str(sw.index("ViennaRNA") + 1) if "ViennaRNA" in sw else ours
    how = _SS_SOURCES.get(info.ss_source, info.ss_source)
    if info.probing and info.ss_source.startswith("vienna"):
        how += " guided by chemical probing data"
    steps = [("other", "secondary structure", f"{how}: {info.ss}", vienna, "1", "1")]
    p = info.prior
    if tmpl:
        found = (
            f"template {p.get('template')} identity {p.get('identity')} coverage "
            f"{p.get('coverage')} released {p.get('release_date') or 'unknown'}"
        )
        steps.append(("template search", "template search", found, ours, "1", "4"))
    else:
        what = _CANDIDATES.get(str(p.get("source")), str(p.get("source", "unknown")))
        parts = [
            f"{i.get('type')} {i.get('pdb')} {i.get('chain')} {i.get('residues')}"
            for i in p.get("instances") or ()
            if isinstance(i, Mapping)
        ]
        if parts:
            what += " (" + ", ".join(parts) + ")"
        steps.append(("other", "starting candidate", what, ours, "1", "1"))
    model = f"all-atom diffusion denoiser, network {info.model_version or 'unknown'}"
    if p.get("refinement"):
        model += f"; {p['refinement']}"
    steps.append(("modeling", "structure prediction", model, ours, "2" if tmpl else "1", "3"))
    if info.cleanup:
        note = p.get("geometry") or "clash clean-up of the all-atom model"
        steps.append(("model refinement", "clean-up", note, ours, "3", "3"))
    if info.relax is not None:
        r = info.relax
        note = "OpenMM energy minimisation" + ("" if r.get("ok", True) else " (failed, unrelaxed)")
        relax_sw = str(sw.index("OpenMM") + 1)
        steps.append(("model refinement", "relax", note, relax_sw, "3", "3"))
    return steps


def _residues(st: gemmi.Structure) -> list[tuple[str, int, str, float]]:
    """``[(label_asym_id, label_seq_id, comp id, B-factor of its first atom)]`` of model 1."""
    return [
        (res.subchain, res.label_seq, res.name, res[0].b_iso)
        for chain in st[0]
        for res in chain
        if res.label_seq is not None and len(res)
    ]


def add_modelcif(
    block: gemmi.cif.Block, st: gemmi.Structure, info: ModelProvenance, name: str
) -> None:
    """Make an mmCIF block of one predicted model (model 1 of ``st``, pLDDT in its
    B-factors) a ModelCIF file: see the module docstring for the categories written."""
    tmpl = info.prior.get("source") == "template"
    _loop(block, "_audit_conform.", ["dict_name", "dict_version"], [MA_DICT])
    sw = _software(info)
    _loop(
        block,
        "_software.",
        ["pdbx_ordinal", "name", "classification", "description", "version", "type"],
        [(k, n, c, d, v, "program") for k, (n, c, d, v) in enumerate(sw, 1)],
    )
    _loop(
        block,
        "_ma_software_group.",
        ["ordinal_id", "group_id", "software_id"],
        [(k, k, k) for k in range(1, len(sw) + 1)],
    )
    data = [(1, name or "target", "target"), (2, f"{name} model".strip(), "model coordinates")]
    if tmpl:
        data.append((3, f"{info.prior.get('template')}", "template structure"))
    _loop(block, "_ma_data.", ["id", "name", "content_type"], data)
    groups = [(1, 1), (2, 1), (3, 2)] + ([(2, 3), (4, 3)] if tmpl else [])
    _loop(
        block,
        "_ma_data_group.",
        ["ordinal_id", "group_id", "data_id"],
        [(k, g, d) for k, (g, d) in enumerate(groups, 1)],
    )
    entities = [(e.name, sub) for e in st.entities for sub in e.subchains]
    _loop(
        block,
        "_ma_target_entity.",
        ["entity_id", "data_id", "origin"],
        [(e, 1, "designed") for e in dict.fromkeys(e for e, _ in entities)],
    )
    _loop(
        block,
        "_ma_target_entity_instance.",
        ["asym_id", "entity_id", "details"],
        [(sub, e, "model") for e, sub in entities],
    )
    steps = _steps(info, [s[0] for s in sw], tmpl)
    _loop(
        block,
        "_ma_protocol_step.",
        [
            "ordinal_id",
            "protocol_id",
            "step_id",
            "method_type",
            "step_name",
            "details",
            "software_group_id",
            "input_data_group_id",
            "output_data_group_id",
        ],
        [(k, 1, k, *s) for k, s in enumerate(steps, 1)],
    )
    kind = "Homology model" if tmpl else "Ab initio model"
    _loop(
        block,
        "_ma_model_list.",
        ["ordinal_id", "model_name", "data_id", "model_type"],
        [(1, f"{name} model".strip(), 2, kind)],
    )
    _loop(block, "_ma_model_group.", ["id", "name"], [(1, "ranked model")])
    _loop(block, "_ma_model_group_link.", ["group_id", "model_id"], [(1, 1)])
    if tmpl:
        _template(block, info.prior, entities[0][1] if entities else None)
    _confidence(block, st, info)


def _template(block: gemmi.cif.Block, prior: Mapping[str, Any], target_asym: str | None) -> None:
    """The template a model started from: its PDB entry and chain, identity transform."""
    _loop(
        block,
        "_ma_template_trans_matrix.",
        ["id"]
        + [f"rot_matrix[{i}][{j}]" for j in (1, 2, 3) for i in (1, 2, 3)]
        + [f"tr_vector[{i}]" for i in (1, 2, 3)],
        [(1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0)],
    )
    chain = prior.get("chain")
    _loop(
        block,
        "_ma_template_details.",
        [
            "ordinal_id",
            "template_id",
            "template_origin",
            "template_entity_type",
            "template_trans_matrix_id",
            "template_data_id",
            "target_asym_id",
            "template_label_asym_id",
            "template_model_num",
            "template_auth_asym_id",
        ],
        [(1, 1, "reference database", "polymer", 1, 3, target_asym, chain, 1, chain)],
    )
    _loop(
        block,
        "_ma_template_ref_db_details.",
        ["template_id", "db_name", "db_accession_code"],
        [(1, "PDB", prior.get("entry"))],
    )


def _confidence(block: gemmi.cif.Block, st: gemmi.Structure, info: ModelProvenance) -> None:
    """pLDDT per residue (the B-factors, same text), their mean and pTM."""
    residues = _residues(st)
    metrics = [(1, "pLDDT", "mean predicted lDDT", "pLDDT", "global", 1)]
    if info.ptm is not None:
        metrics.append((2, "pTM", "predicted TM-score", "pTM", "global", 1))
    metrics.append((3, "pLDDT", "predicted lDDT per residue", "pLDDT", "local", 1))
    _loop(
        block,
        "_ma_qa_metric.",
        ["id", "name", "description", "type", "mode", "software_group_id"],
        metrics,
    )
    mean = sum(r[3] for r in residues) / max(len(residues), 1)
    globals_ = [(1, 1, 1, f"{mean:.2f}")]
    if info.ptm is not None:
        globals_.append((2, 1, 2, f"{info.ptm:.4f}"))
    _loop(
        block,
        "_ma_qa_metric_global.",
        ["ordinal_id", "model_id", "metric_id", "metric_value"],
        globals_,
    )
    _loop(
        block,
        "_ma_qa_metric_local.",
        [
            "ordinal_id",
            "model_id",
            "label_asym_id",
            "label_seq_id",
            "label_comp_id",
            "metric_id",
            "metric_value",
        ],
        [(k, 1, a, s, c, 3, f"{b:.2f}") for k, (a, s, c, b) in enumerate(residues, 1)],
    )


def provenance_from_confidence(doc: Mapping[str, Any], file_name: str) -> ModelProvenance | None:
    """The provenance of model file ``file_name`` as a fold ``confidence.json`` records it,
    or None when the document does not list that file."""
    for m in doc.get("models") or ():
        if file_name not in (m.get("files") or ()):
            continue
        prior = m.get("prior") or {}
        used = doc.get("secondary_structure") or {}
        return ModelProvenance(
            ss=str(m.get("secondary_structure", used.get("dot_bracket", ""))),
            ss_source=str(prior.get("ss_source", used.get("source", "input"))),
            prior=prior,
            ptm=m.get("ptm"),
            model_version=str(doc.get("model_version") or ""),
            probing="probing" in doc,
            cleanup=bool((doc.get("settings") or {}).get("cleanup", True)),
            relax=m.get("relax"),
        )
    return None


def fold_provenance(path: Path) -> ModelProvenance | None:
    """Provenance of a fold model file from the ``confidence.json`` beside it, if that lists
    the file with its current size and sha256 (an edited model is not the one described)."""
    try:
        doc = json.loads((path.parent / "confidence.json").read_text())
        data = path.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    want = (doc.get("checksums") or {}).get(path.name) or {}
    if want.get("sha256") != hashlib.sha256(data).hexdigest():
        return None
    return provenance_from_confidence(doc, path.name)


def copy_modelcif(source: gemmi.cif.Block, target: gemmi.cif.Block) -> None:
    """Copy the ModelCIF categories (:data:`MA_PREFIXES`) and the modelling methodology of
    ``source`` into ``target`` (an export of the same models, same asym and seq ids)."""
    for cat in source.get_mmcif_category_names():
        if not cat.startswith(MA_PREFIXES):
            continue
        table = source.find_mmcif_category(cat)
        tags = [t.removeprefix(cat) for t in table.tags]
        loop = target.init_loop(cat, tags)
        for row in table:
            loop.add_row([row[i] for i in range(len(tags))])
    method = source.find_value("_struct.pdbx_structure_determination_methodology")
    if method is not None:
        set_struct(target, {"pdbx_structure_determination_methodology": method})
