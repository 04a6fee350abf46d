"""Parser ensembles: several nets in one file, their class log-probabilities averaged."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from safetensors import safe_open

from ca2sis.parsing.backends import BundledParser
from ca2sis.parsing.ensemble import ENSEMBLE_FORMAT, ParserEnsemble, join_parser_files, save_parser_ensemble
from ca2sis.parsing.network import FaceParserNet, load_parser_net, save_parser_net

from .helpers import TINY, random_face


def tiny(seed: int, **changes) -> FaceParserNet:
    torch.manual_seed(seed)
    return FaceParserNet(dataclasses.replace(TINY, **changes)).eval()


@pytest.fixture
def two_files(tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    save_parser_net(a, tiny(1), {"val_miou": "0.5"})
    save_parser_net(b, tiny(2, output_stride=1), {"val_miou": "0.4"})
    return a, b


def test_joined_files_load_as_one_net_that_averages_its_members_log_probabilities(two_files, tmp_path):
    out = tmp_path / "ens.safetensors"
    join_parser_files(two_files, out, {"flip_tta": "false"})
    ens, meta = load_parser_net(out)
    assert isinstance(ens, ParserEnsemble) and meta["format"] == ENSEMBLE_FORMAT
    a, _ = load_parser_net(two_files[0])
    b, _ = load_parser_net(two_files[1])
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        got = ens(x)
        la = a(x).log_softmax(1)  # stride 2: 32² logits
        lb = b(x).log_softmax(1)  # stride 1: 64², so the coarser member is brought up to it
        la = torch.nn.functional.interpolate(la, size=(64, 64), mode="bilinear", align_corners=False)
    assert got.shape == (2, TINY.num_classes, 64, 64)
    torch.testing.assert_close(got, (la + lb) / 2)


def test_a_mirrored_member_averages_its_answer_with_its_answer_on_the_mirrored_face(two_files, tmp_path):
    from ca2sis.classes import CELEBAMASK_HQ

    out = tmp_path / "ens.safetensors"
    join_parser_files(two_files, out)
    ens, _ = load_parser_net(out)
    b, _ = load_parser_net(two_files[1])
    lut = torch.from_numpy(CELEBAMASK_HQ.flip_lut().astype(np.int64))
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        got = ens(x, mirrored=[1], flip_lut=lut)
        plain = ens(x)
        lb = b(x).log_softmax(1)
        lb_mirror = b(x.flip(-1)).log_softmax(1).flip(-1)[:, lut]  # the mirror's left eye is the right eye
    # Only member 1's share changes: the mean moves by half the change of that member's answer.
    torch.testing.assert_close(got - plain, ((lb + lb_mirror) / 2 - lb) / 2, atol=1e-5, rtol=1e-4)


def test_mirroring_every_member_makes_the_ensemble_mirror_consistent(two_files, tmp_path):
    from ca2sis.classes import CELEBAMASK_HQ

    out = tmp_path / "ens.safetensors"
    join_parser_files(two_files, out)
    ens, _ = load_parser_net(out)
    lut = torch.from_numpy(CELEBAMASK_HQ.flip_lut().astype(np.int64))
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        direct = ens(x, mirrored=[0, 1], flip_lut=lut)
        of_mirror = ens(x.flip(-1), mirrored=[0, 1], flip_lut=lut)
    torch.testing.assert_close(of_mirror.flip(-1)[:, lut], direct, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="flip_lut"):
        ens(x, mirrored=[0])


def test_a_file_can_name_the_members_the_bundled_parser_mirrors(two_files, tmp_path):
    out = tmp_path / "ens.safetensors"
    join_parser_files(two_files, out, {"flip_tta": "false", "mirror_members": "[1]"})
    parser = BundledParser(out)
    assert parser.mirror_members == (1,) and not parser.flip_tta
    mask = parser.parse(random_face(96))
    assert mask.shape == (96, 96) and mask.max() < TINY.num_classes
    assert BundledParser(two_files[0]).mirror_members == ()  # files without the key: none


def test_the_bundled_parser_mirrors_the_members_its_file_names(two_files, tmp_path):
    from ca2sis.classes import CELEBAMASK_HQ

    plain, mirrored = tmp_path / "plain.safetensors", tmp_path / "mirrored.safetensors"
    join_parser_files(two_files, plain, {"flip_tta": "false"})
    join_parser_files(two_files, mirrored, {"flip_tta": "false", "mirror_members": "[0, 1]"})
    face = random_face(64, seed=5)
    mirror_face = np.ascontiguousarray(face[:, ::-1])

    def mirror_agreement(path):
        parser = BundledParser(path, clean=False)
        expected = CELEBAMASK_HQ.flip_lut()[parser.parse(face)[:, ::-1]]
        return (parser.parse(mirror_face) == expected).mean()

    # With every member mirrored the answer on the mirror image is the mirror of the answer (up to float
    # ties); the untrained nets alone are far from that.
    assert mirror_agreement(mirrored) > 0.99
    assert mirror_agreement(plain) < 0.9


@pytest.mark.parametrize("value", ["[2]", "[-1]", "1", "[\"a\"]", "[true]", "not json"])
def test_a_file_naming_members_it_does_not_have_is_refused_with_a_message(two_files, tmp_path, value):
    out = tmp_path / "ens.safetensors"
    join_parser_files(two_files, out, {"mirror_members": value})
    with pytest.raises(ValueError, match="mirror_members must list member indices"):
        BundledParser(out)


def test_a_single_net_file_cannot_name_mirrored_members(tmp_path):
    path = tmp_path / "one.safetensors"
    save_parser_net(path, tiny(1), {"mirror_members": "[0]"})
    with pytest.raises(ValueError, match="holds one net"):
        BundledParser(path)


def test_the_file_keeps_each_members_architecture_and_training_record(two_files, tmp_path):
    import json

    out = tmp_path / "ens.safetensors"
    join_parser_files(two_files, out)
    with safe_open(str(out), framework="pt") as f:
        meta = f.metadata()
    members = json.loads(meta["member_meta"])
    assert [m["source"] for m in members] == ["a.safetensors", "b.safetensors"]
    assert [m["val_miou"] for m in members] == ["0.5", "0.4"]
    assert len(json.loads(meta["members"])) == 2


def test_the_bundled_back_end_parses_with_an_ensemble_file(two_files, tmp_path):
    out = tmp_path / "ens.safetensors"
    join_parser_files(two_files, out, {"flip_tta": "false"})
    parser = BundledParser(out)
    assert not parser.flip_tta
    mask = parser.parse(random_face(96))
    assert mask.shape == (96, 96) and mask.dtype == np.uint8 and mask.max() < TINY.num_classes
    assert parser.probabilities(random_face(96)).sum(1).allclose(torch.ones(1, 96, 96))


def test_members_must_see_faces_at_one_size(tmp_path):
    with pytest.raises(ValueError, match="input_size"):
        ParserEnsemble([tiny(1), tiny(2, input_size=96)])


def test_one_net_is_not_an_ensemble():
    with pytest.raises(ValueError, match="at least two"):
        ParserEnsemble([tiny(1)])


def test_an_ensemble_cannot_be_joined_again_or_trained_from(two_files, tmp_path):
    from ca2sis.parsing.training import TrainConfig, build_net

    out = tmp_path / "ens.safetensors"
    save_parser_ensemble(out, [tiny(1), tiny(3)])
    with pytest.raises(ValueError, match="already an ensemble"):
        join_parser_files([out, two_files[0]], tmp_path / "again.safetensors")
    with pytest.raises(ValueError, match="architecture"):
        build_net(TrainConfig(data="unused", net=TINY, init=str(out)))


def test_main_py_joins_parser_files(two_files, tmp_path, capsys):
    from main import main

    out = tmp_path / "ens.safetensors"
    assert main(["models", "join-parsers", *map(str, two_files), "--out", str(out), "--set", "val_miou=0.61"]) == 0
    assert "2 parser nets" in capsys.readouterr().out
    net, meta = load_parser_net(out)
    assert isinstance(net, ParserEnsemble) and meta["val_miou"] == "0.61"
    assert not BundledParser(out).flip_tta


def test_main_py_joins_with_only_the_named_members_mirrored(two_files, tmp_path, capsys):
    from main import main

    out = tmp_path / "ens.safetensors"
    assert main(["models", "join-parsers", *map(str, two_files), "--out", str(out), "--mirror-member", "1"]) == 0
    assert "mirror averaging for member 1" in capsys.readouterr().out
    parser = BundledParser(out)
    assert parser.mirror_members == (1,) and not parser.flip_tta


def test_main_py_refuses_bad_joins_with_a_message(two_files, tmp_path, capsys):
    from main import main

    assert main(["models", "join-parsers", str(two_files[0]), "--out", str(tmp_path / "x.safetensors")]) == 2
    assert "at least two" in capsys.readouterr().err
    assert main(["models", "join-parsers", str(two_files[0]), str(tmp_path / "none.safetensors"),
                 "--out", str(tmp_path / "x.safetensors")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["models", "join-parsers", *map(str, two_files), "--out", str(tmp_path / "x.safetensors"),
                 "--mirror-member", "2"]) == 2
    assert "--mirror-member 2 is not a member (0 to 1)" in capsys.readouterr().err
    assert main(["models", "join-parsers", *map(str, two_files), "--out", str(tmp_path / "x.safetensors"),
                 "--mirror-member", "0", "--mirror-averaging"]) == 2
    assert "already mirrors every member" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()
    assert main(["models", "join-parsers", *map(str, two_files), "--out", str(two_files[0])]) == 2
    assert "must not be one of the members" in capsys.readouterr().err
    assert main(["models", "join-parsers", *map(str, two_files), "--out", str(tmp_path / "x.safetensors"),
                 "--set", "format=mine"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()
