"""Hostile data and folders outside the grader: corrupt or altered archives, special files named as data,
`exercises make --overwrite` over someone's work, and one-line refusals (issue 27, items 2, 7, 8, 9)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from common import cifar10
from common.cifar10 import load_raw_cifar10
from tests.cifar_fixtures import member_files, synthetic_batches, write_archive, write_folder

ROOT = Path(__file__).resolve().parents[1]
N = 4  # images per batch in the synthetic copies


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """Batches of N images, an isolated environment, and no warning remembered from an earlier test."""
    monkeypatch.setattr(cifar10, "IMAGES_PER_BATCH", N)
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cifar10, "_warned", set(), raising=False)
    return synthetic_batches(N)


@pytest.fixture
def official_tiny(tiny, monkeypatch):
    """The synthetic batches made "official": their md5s stand in for CIFAR-10's."""
    files = member_files(tiny, "binary")
    monkeypatch.setattr(cifar10, "BINARY_MD5", {name: hashlib.md5(data).hexdigest() for name, data in files.items()})
    return tiny


def one_line_refusal(root) -> str:
    with pytest.raises(ValueError) as caught:
        load_raw_cifar10(root)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


# ----------------------------------------------------------------------------- 2. corrupt or altered archives


@pytest.mark.parametrize("from_end", [6, 2])  # in the gzip trailer: its CRC-32, its length
def test_a_bit_flipped_near_the_end_of_the_archive_is_refused_in_one_line_naming_the_file(
    official_tiny, tmp_path, from_end
):
    path = write_archive(tmp_path / "data", official_tiny, "binary")
    data = bytearray(path.read_bytes())
    data[-from_end] ^= 0x10
    path.write_bytes(bytes(data))
    message = one_line_refusal(path)
    assert str(path) in message and "corrupt" in message


def test_an_archive_with_a_duplicated_member_is_refused(tiny, tmp_path):
    path = write_archive(tmp_path / "data", tiny, "binary")
    files = member_files(tiny, "binary")
    with tarfile.open(path, "w:gz") as archive:
        for name, data in [*files.items(), ("test_batch.bin", bytes(len(files["test_batch.bin"])))]:
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    message = one_line_refusal(path)
    assert "test_batch.bin appears twice" in message and str(path) in message


@pytest.mark.parametrize("layout", ["archive", "folder"])
def test_one_batch_altered_among_official_ones_is_refused(official_tiny, tmp_path, layout):
    images, labels = official_tiny["test_batch"]
    altered = dict(official_tiny, test_batch=(images ^ np.uint8(1), labels))  # well-formed, not official
    if layout == "archive":
        write_archive(tmp_path / "data", altered, "binary")
    else:
        write_folder(tmp_path / "data", altered, "binary")
    message = one_line_refusal(tmp_path / "data")
    assert "test_batch.bin: md5 is" in message and "corrupt or altered" in message


def test_an_unofficial_but_well_formed_archive_loads_with_a_warning_on_stderr(tiny, tmp_path, capsys):
    path = write_archive(tmp_path / "data", tiny, "binary")
    raw = load_raw_cifar10(tmp_path / "data")
    np.testing.assert_array_equal(raw.x_test, tiny["test_batch"][0])
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {path}: not the official CIFAR-10") and err.count("\n") == 1, err
    assert raw.provenance()["official"] is False


def test_extra_members_are_warned_about_and_the_official_metadata_is_not(official_tiny, tmp_path, capsys):
    extras = {"cifar-10-batches-bin/batches.meta.txt": b"airplane\n", "cifar-10-batches-bin/data_batch_6.bin": b"x"}
    path = write_archive(tmp_path / "data", official_tiny, "binary", changes=extras)
    load_raw_cifar10(path)
    err = capsys.readouterr().err
    assert (
        err
        == f"warning: {path}: not the official archive: it also holds cifar-10-batches-bin/data_batch_6.bin (ignored)\n"
    )
    write_archive(tmp_path / "meta", official_tiny, "binary", changes=dict(list(extras.items())[:1]))
    load_raw_cifar10(tmp_path / "meta")
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_the_real_archive_loads_silently_and_refuses_a_bit_flipped_near_its_end(tmp_path, capsys, monkeypatch):
    real = Path(os.environ.get("CIFAR10_DIR") or "/nonexistent") / cifar10.BINARY_ARCHIVE
    if not real.is_file():
        pytest.skip("CIFAR10_DIR does not hold cifar-10-binary.tar.gz")
    monkeypatch.setattr(cifar10, "_warned", set(), raising=False)
    assert load_raw_cifar10(real).provenance()["official"] is True
    assert capsys.readouterr().err == ""
    copy = tmp_path / cifar10.BINARY_ARCHIVE
    shutil.copyfile(real, copy)
    with open(copy, "r+b") as f:
        f.seek(-1000, os.SEEK_END)
        byte = f.read(1)
        f.seek(-1000, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0x04]))
    message = one_line_refusal(copy)
    assert str(copy) in message


# ----------------------------------------------------------------------------- 7. only regular files as archives


def special_files(tmp_path) -> list[Path]:
    """A folder whose archive is a FIFO, one whose archive links to /dev/zero, and a FIFO named directly."""
    fifo_dir, zero_dir = tmp_path / "fifo", tmp_path / "zero"
    fifo_dir.mkdir()
    zero_dir.mkdir()
    os.mkfifo(fifo_dir / cifar10.BINARY_ARCHIVE)
    (zero_dir / cifar10.BINARY_ARCHIVE).symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "named.tar.gz")
    return [fifo_dir, zero_dir, tmp_path / "named.tar.gz"]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="needs FIFOs, /dev/zero")
def test_a_fifo_or_dev_zero_named_as_the_archive_is_refused_without_opening_it(tiny, tmp_path, monkeypatch):
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k))
    for root in special_files(tmp_path):
        message = one_line_refusal(root)
        assert "refused without opening it" in message
        assert "is a FIFO" in message or "is a character device" in message
    assert opened == []


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_train_py_refuses_a_fifo_archive_in_one_line_with_exit_2(tmp_path):
    root = special_files(tmp_path)[0]
    proc = subprocess.run(
        [sys.executable, "train.py", "--data-dir", str(root), "--out", str(tmp_path / "run")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "is a FIFO (named pipe); refused without opening it" in proc.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_file_swapped_for_a_fifo_after_its_check_is_refused_without_hanging_or_leaking_its_descriptor(
    tmp_path, monkeypatch
):
    from common import artifacts

    regular, fifo = tmp_path / "data_batch_1.bin", tmp_path / "swapped.bin"
    regular.write_bytes(b"x")
    os.mkfifo(fifo)
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: real_stat(regular if path == fifo else path, *a, **k))
    open_before = set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()
    with pytest.raises(ValueError) as refused:
        artifacts.open_regular_file(fifo)  # checked as the regular file, opened as the FIFO
    assert (
        str(refused.value)
        == f"{fifo}: changed while it was opened (now a FIFO (named pipe)); only a regular file is read"
    )
    if open_before:
        assert set(os.listdir("/proc/self/fd")) == open_before


def test_a_fifo_batch_in_an_extracted_folder_is_refused(tiny, tmp_path):
    folder = write_folder(tmp_path / "data", tiny, "binary")
    (folder / "test_batch.bin").unlink()
    os.mkfifo(folder / "test_batch.bin")
    message = one_line_refusal(tmp_path / "data")
    assert "test_batch.bin: is a FIFO (named pipe)" in message


# ----------------------------------------------------------------------------- 8. exercises make --overwrite


@pytest.fixture
def kit(tmp_path) -> Path:
    from exercises.__main__ import make_exercise

    out = tmp_path / "kit"
    make_exercise(out)
    return out


def test_overwrite_refuses_a_kit_whose_lab_files_were_changed_and_names_them(kit, capsys):
    from exercises.__main__ import main

    finished = "def affine_forward(x, w, b):\n    return x @ w + b, None  # the student's work\n"
    (kit / "lab" / "layers.py").write_text(finished)
    (kit / "README.md").write_text((kit / "README.md").read_text() + "\nmy notes\n")
    assert main(["make", str(kit), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lab/layers.py" in err and "README.md" in err and "--backup" in err, err
    assert (kit / "lab" / "layers.py").read_text() == finished


def test_overwrite_with_backup_copies_the_work_to_a_named_sibling_first(kit, capsys):
    from exercises.__main__ import main

    finished = "# finished\n"
    (kit / "lab" / "optim.py").write_text(finished)
    (kit / "mine.txt").write_text("my own file")
    assert main(["make", str(kit), "--overwrite", "--backup"]) == 0
    out = capsys.readouterr().out
    backups = list(kit.parent.glob("kit.backup-*"))
    assert len(backups) == 1 and f"backed up {kit} to {backups[0]}" in out
    assert (backups[0] / "lab" / "optim.py").read_text() == finished
    assert (kit / "lab" / "optim.py").read_text() != finished and (kit / "mine.txt").read_text() == "my own file"


def test_overwrite_of_an_untouched_kit_needs_no_backup(kit):
    from exercises.__main__ import make_exercise

    make_exercise(kit, overwrite=True)
    assert not list(kit.parent.glob("kit.backup-*"))


def test_overwrite_refuses_a_folder_that_is_not_a_kit_such_as_the_project_root(tmp_path, capsys):
    from exercises.__main__ import main

    root = tmp_path / "project"
    (root / "lab").mkdir(parents=True)  # even with a lab/ folder, the README is not the kit's
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (root / "README.md").write_text(readme, encoding="utf-8")
    for flags in (["--overwrite"], ["--overwrite", "--backup"]):
        assert main(["make", str(root), *flags]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not a lab kit" in err, err
    assert (root / "README.md").read_text(encoding="utf-8") == readme
    assert sorted(p.name for p in root.iterdir()) == ["README.md", "lab"]


# ----------------------------------------------------------------------------- 9. one line, and honest advice


@pytest.mark.slow  # imports torch
def test_compare_json_pointed_at_a_folder_is_refused_in_one_line_before_grading(tmp_path, monkeypatch, capsys):
    import compare.grade
    from compare.__main__ import main

    def never(*args, **kwargs):
        raise AssertionError("graded before checking --json")

    monkeypatch.setattr(compare.grade, "grade_folder", never)
    assert main(["--impl", "numpy_impl", "--json", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    expected = f"--json {tmp_path}: is a folder; give a file name for the grades, e.g. grades.json"
    assert err == f"python -m compare: error: {expected}\n"


def test_a_loss_not_finite_before_any_update_names_the_preprocessing_not_only_the_weight_scale():
    from common.training import TrainingDivergedError, check_finite

    with pytest.raises(TrainingDivergedError) as caught:
        check_finite(float("nan"), 0, 0, 1e-3)
    message = str(caught.value)
    assert "before any update" in message and "inputs" in message and "--zca-epsilon" in message
    assert "learning rate" not in message.replace("not the learning rate", "")
    with pytest.raises(TrainingDivergedError) as caught:  # whitening with a tiny epsilon: the inputs overflowed
        check_finite(float("inf"), 0, 0, 1e-3, inputs=np.array([[1.0, 3e160], [np.inf, 0.0]]))
    message = str(caught.value)
    assert "the inputs are not finite" in message and "--zca-epsilon" in message and "weight scale" not in message
    with pytest.raises(TrainingDivergedError, match="inputs are finite .* try a smaller weight scale"):
        check_finite(float("inf"), 0, 0, 1e-3, inputs=np.ones((2, 3)))
