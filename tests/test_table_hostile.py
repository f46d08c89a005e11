"""Hostile and damaged table files (issue 30, items 1-6 and 13): each is refused when opened with one line naming
the file, the object inside it and the rule broken, also through the CLI; merge survives re-merging and a full
disk; the Python API reads arch inputs strictly. The crafted files are made here with h5py."""

from __future__ import annotations

import hashlib
import resource
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers the commands)
from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201
from nasbench_suite.table import Table, TableError, open_table, resolve_table
from nasbench_suite.train.shards import merge_shards

from test_table import small_table

SHAPE = (3, 2, 3)  # small_table(): archs (0, 5, 9), seeds (777, 888), epochs (1, 2, 3)


def _replace(f, name, **kwargs):
    del f[name]
    return f.create_dataset(name, **kwargs)


def _external_storage(f, tmp_path):  # item 1: the values come from another file's bytes
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n" * 3)
    _replace(f, "metrics/valid_acc", shape=SHAPE, dtype=np.float32, external=[(str(secret), 0, 72)])


def _external_link(f, tmp_path):  # item 2: a metric read from another table
    other = small_table(offset=5).save(tmp_path / "other.h5")
    del f["metrics/valid_acc"]
    f["metrics/valid_acc"] = h5py.ExternalLink(str(other), "/metrics/valid_acc")


def _virtual(f, tmp_path):
    other = small_table(offset=5).save(tmp_path / "other.h5")
    layout = h5py.VirtualLayout(shape=SHAPE, dtype=np.float32)
    layout[...] = h5py.VirtualSource(str(other), "metrics/valid_acc", shape=SHAPE)
    del f["metrics/valid_acc"]
    f.create_virtual_dataset("metrics/valid_acc", layout, fillvalue=np.nan)


def _soft_link(f, tmp_path):
    f["metrics/test_acc"] = h5py.SoftLink("/metrics/valid_acc")


def _soft_link_loop(f, tmp_path):
    f["metrics/loop"] = h5py.SoftLink("/metrics/loop")


def _hard_link_twice(f, tmp_path):
    f["metrics/test_acc"] = f["metrics/valid_acc"]


def _hard_link_cycle(f, tmp_path):
    f["metrics/up"] = f["/"]


def _group_for_dataset(f, tmp_path):
    f.create_group("metrics/test_acc")


def _dataset_for_group(f, tmp_path):
    del f["columns"]
    f["columns"] = np.zeros(3)


def _unknown_member(f, tmp_path):
    f["extra"] = np.zeros(3)


def _missing_axis(f, tmp_path):
    del f["axes/seeds"]


def _string_metric(f, tmp_path):  # item 3
    _replace(f, "metrics/valid_acc", data=np.full(SHAPE, b"93.1"))


def _string_cost(f, tmp_path):
    _replace(f, "columns/params_m", data=np.array(["1", "2", "3"], dtype=object), dtype=h5py.string_dtype())


def _huge_metric(f, tmp_path):  # 10^12 rows declared, nothing stored
    _replace(f, "metrics/valid_acc", shape=(10**12, 2, 3), chunks=(1, 2, 3), dtype=np.float32)


def _huge_axis(f, tmp_path):
    _replace(f, "axes/epochs", shape=(10**12,), chunks=(1024,), dtype=np.int32)


def _too_many_values(f, tmp_path):  # every shape matches its axes, but they multiply to 3e8 values
    _replace(f, "axes/seeds", shape=(1000,), dtype=np.int64)
    _replace(f, "axes/epochs", shape=(100000,), dtype=np.int32)
    _replace(f, "metrics/valid_acc", shape=(3, 1000, 100000), chunks=(1, 10, 1000), dtype=np.float32)


def _float_axis(f, tmp_path):
    _replace(f, "axes/epochs", data=np.array([1.0, 2.0, 3.0]))


def _attr(key, value):
    def craft(f, tmp_path):
        f.attrs[key] = value
    return craft


def _unit(value):
    def craft(f, tmp_path):
        f["metrics/valid_acc"].attrs["unit"] = value
    return craft


def _values(name, values, unit=None):
    def craft(f, tmp_path):
        f[name][...] = values
        if unit is not None:
            f[name].attrs["unit"] = unit
    return craft


HOSTILE = {  # crafted file -> (object named, rule broken)
    "external storage": (_external_storage, "/metrics/valid_acc", "uses external storage"),
    "external link": (_external_link, "/metrics/valid_acc", "is an external link"),
    "virtual dataset": (_virtual, "/metrics/valid_acc", "is a virtual dataset"),
    "soft link": (_soft_link, "/metrics/test_acc", "is a soft link"),
    "soft link loop": (_soft_link_loop, "/metrics/loop", "is a soft link"),
    "hard link twice": (_hard_link_twice, "/metrics/test_acc", "reachable under more than one name"),
    "hard link cycle": (_hard_link_cycle, "/metrics/up", "is a group where a dataset belongs"),
    "group for dataset": (_group_for_dataset, "/metrics/test_acc", "is a group where a dataset belongs"),
    "dataset for group": (_dataset_for_group, "/columns", "is a dataset where a group belongs"),
    "unknown member": (_unknown_member, "/extra", "is not part of a table"),
    "missing axis": (_missing_axis, "/axes/seeds", "is missing"),
    "string metric": (_string_metric, "/metrics/valid_acc", "has dtype |S4; expected floating point"),
    "string cost column": (_string_cost, "/columns/params_m", "has dtype object; expected floating point"),
    "10^12 declared rows": (_huge_metric, "/metrics/valid_acc", "has shape (1000000000000, 2, 3); expected (3, 2, 3)"),
    "10^12 declared epochs": (_huge_axis, "/axes/epochs", "has shape (1000000000000,); expected one dimension"),
    "3e8 values": (_too_many_values, "/metrics and /columns", "declare 300,000,003 values; a table holds at most"),
    "float axis": (_float_axis, "/axes/epochs", "has dtype float64; expected integer"),
    "protocol=5": (_attr("protocol", 5), "attribute protocol", "is int64 5; expected a string"),
    "schema_version=[1,1]": (_attr("schema_version", [1, 1]), "attribute schema_version", "expected the integer 1"),
    "schema_version='1'": (_attr("schema_version", "1"), "attribute schema_version", "expected the integer 1"),
    "provenance='null'": (_attr("provenance", "null"), "attribute provenance", "is not a JSON object"),
    "protocol not JSON": (_attr("protocol", "{"), "attribute protocol", "is not a JSON object"),
    "description=5": (_attr("description", 5), "attribute description", "expected a string"),
    "unknown space": (_attr("space", "nb101"), "attribute space", "unknown space 'nb101'"),
    "unit=3": (_unit(3), "/metrics/valid_acc attribute unit", "expected a string"),
    "negative epoch": (_values("axes/epochs", [-541591025, 2, 3]), "/axes/epochs", "positive and increasing"),  # item 4
    "unsorted epochs": (_values("axes/epochs", [3, 2, 1]), "/axes/epochs", "positive and increasing"),
    "seed below -1": (_values("axes/seeds", [-5, 888]), "/axes/seeds", "distinct seeds >= 0"),
    "arch out of range": (_values("axes/archs", [0, 5, 15625]), "/axes/archs", "distinct cell indices 0..15624"),
    "negative cost column": (_values("columns/params_m", [0.1, -0.5, 0.9]), "/columns/params_m",
                             "is a cost (unit 'millions') with a negative value -0.5"),
    "negative seconds metric": (_values("metrics/valid_acc", -np.ones(SHAPE), unit="s"), "/metrics/valid_acc",
                                "is a cost (unit 's') with a negative value -1.0"),
    "infinite value": (_values("metrics/valid_acc", np.full(SHAPE, np.inf)), "/metrics/valid_acc",
                       "holds an infinite value"),
}


@pytest.fixture
def crafted(tmp_path, request):
    """A valid small table file, then changed by the named crafting step; (path, object named, rule)."""
    craft, where, rule = HOSTILE[request.param]
    path = small_table().save(tmp_path / "hostile.h5")
    with h5py.File(path, "a") as f:
        craft(f, tmp_path)
    return path, where, rule


@pytest.mark.parametrize("crafted", list(HOSTILE), indirect=True)
def test_hostile_table_files_are_refused_on_open_naming_file_object_and_rule(crafted):
    path, where, rule = crafted
    with pytest.raises(TableError) as caught:
        Table.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where} ") and rule in message and "\n" not in message, message


@pytest.mark.parametrize("crafted", list(HOSTILE), indirect=True)
@pytest.mark.parametrize("command", [["query", "{path}", "0", "--json"], ["info", "{path}"]])
def test_hostile_table_files_give_one_line_and_exit_2_in_the_cli(crafted, command):
    path, where, rule = crafted
    result = CliRunner().invoke(cli, [arg.format(path=path) for arg in command])
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {path}: {where} ") and rule in result.stderr


def test_a_declared_10_to_the_12_rows_metric_is_refused_without_allocating(tmp_path):
    path = small_table().save(tmp_path / "huge.h5")
    with h5py.File(path, "a") as f:
        _huge_metric(f, tmp_path)
    script = ("import resource, sys\nresource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
              "from nasbench_suite.table import Table, TableError\n"
              f"try:\n    Table.load({str(path)!r})\nexcept TableError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "has shape (1000000000000, 2, 3)" in out.stdout, out.stderr[-500:]


@pytest.mark.parametrize("path", sorted(p.name for p in resolve_table("nb201-cifar10").parent.glob("*.h5")))
def test_every_embedded_table_passes_the_checks(path):
    assert len(open_table(path.removesuffix(".h5")).archs) > 0


# ---- item 2: the content hash ------------------------------------------------------------------------------------
def test_content_sha256_ignores_layout_created_and_descriptions_but_not_values_names_or_units(tmp_path):
    first = small_table().content_sha256()
    table = small_table()
    table.created, table.description, table.provenance = "2020-01-01T00:00:00+00:00", "other words", {"by": "me"}
    path = table.save(tmp_path / "a.h5")
    with h5py.File(path, "a") as f:  # the same values stored another way: uncompressed, contiguous
        attrs = dict(f["metrics/valid_acc"].attrs)
        _replace(f, "metrics/valid_acc", data=f["metrics/valid_acc"][()]).attrs.update(attrs)
    assert Table.load(path).content_sha256() == first != hashlib.sha256(path.read_bytes()).hexdigest()
    assert small_table(offset=1e-3).content_sha256() != first
    renamed = small_table()
    renamed.metrics["test_acc"] = renamed.metrics.pop("valid_acc")
    assert renamed.content_sha256() != first
    relabelled = small_table()
    relabelled.metrics["valid_acc"].unit = "s"
    assert relabelled.content_sha256() != first


def test_content_sha256_of_a_committed_table_is_the_same_on_every_machine():
    assert open_table("cifar10-jpeg75-micro").content_sha256() == (
        "fdd75cdd5712db4b0395b7d18e02ecebeed1c7676e96d1cb64bd18caf608ae36")


# ---- items 5 and 6: merge ------------------------------------------------------------------------------------------
def test_a_merged_table_merges_again_and_keeps_every_command(tmp_path):
    merged = resolve_table("cifar10-jpeg75-micro")  # made by `merge`: its provenance command is a list
    result = CliRunner().invoke(cli, ["merge", str(merged), "--out", str(tmp_path / "x.h5"), "--json"])
    assert result.exit_code == 0, result.output
    again = Table.load(tmp_path / "x.h5")
    assert again.provenance["command"] == Table.load(merged).provenance["command"]
    shard = small_table()
    shard.provenance = {"command": "nasbench-suite train --protocol toy"}
    shard = shard.save(tmp_path / "shard.h5")
    once = merge_shards([shard]).save(tmp_path / "once.h5")
    assert merge_shards([once, shard]).provenance["command"] == ["nasbench-suite train --protocol toy"]


def _file_size_limit(limit: int):
    """In the child: writes past `limit` bytes fail (EFBIG) as on a full disk, instead of killing it (SIGXFSZ)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_merge_onto_a_full_disk_ends_with_one_line_naming_the_output_and_leaves_nothing(tmp_path):
    out = tmp_path / "out" / "merged.h5"
    out.parent.mkdir()
    proc = subprocess.run([sys.executable, "-m", "nasbench_suite", "merge", str(resolve_table("cifar10-jpeg75-cpu")),
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          preexec_fn=_file_size_limit(64 * 1024))
    assert proc.returncode == 2, proc.stderr[-2000:]  # was -11 (SIGSEGV) after ~130 lines of HDF5 errors
    assert proc.stderr == f"error: cannot write {out}: File too large; choose another --out\n"
    assert list(out.parent.iterdir()) == []


# ---- item 13: arch inputs of the Python API ------------------------------------------------------------------------
OPS_6111 = NB201.to_ops(6111)


@pytest.mark.parametrize("arch", [np.array(6111), np.array(6111, dtype=np.uint16), np.int16(6111), np.int64(6111),
                                  np.array(NB201.to_str(6111))])
def test_a_0d_array_or_numpy_integer_is_one_index(nb201_table, arch):
    assert nb201_table.query(arch, "test_acc", 200) == nb201_table.query(6111, "test_acc", 200)
    assert NB201.to_ops(arch) == OPS_6111


@pytest.mark.parametrize("arch, message", [
    ((True, False, True, True, False, False), "op id True"),
    ([False] * 6, "op id False"),
    ((1, True, 2, 3, 4, 0), "op id True"),
    (6111.0, "arch index must be an integer, got 6111.0 (float)"),
    (np.float64(6111.0), "arch index must be an integer, got 6111.0 (float64)"),
    (np.array(6111.0), "arch index must be an integer, got 6111.0 (float64)"),
])
def test_bools_and_floats_are_refused_not_read_as_ops_or_indices(nb201_table, arch, message):
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        nb201_table.query(arch, "test_acc", 200)
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        nb201_table.query_many([arch], "test_acc", 200)


def test_query_many_reads_an_n_by_6_array_as_op_ids_of_n_cells(nb201_table):
    expected = nb201_table.query_many([6111, 0], "test_acc", 200)
    ops = np.array([OPS_6111, NB201.to_ops(0)])
    assert np.array_equal(nb201_table.query_many(ops, "test_acc", 200), expected, equal_nan=True)
    assert np.array_equal(nb201_table.query_many(ops[:1], "test_acc", 200), expected[:1])
    with pytest.raises(UserInputError, match=r"1-D \(indices\) or of shape \(n, 6\) \(op ids\), got shape \(2, 3\)"):
        nb201_table.query_many(np.zeros((2, 3), dtype=int), "test_acc", 200)
    with pytest.raises(UserInputError, match="op ids must be an integer array"):
        nb201_table.query_many(ops.astype(bool), "test_acc", 200)
