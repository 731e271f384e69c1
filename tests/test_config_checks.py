"""The field checks of config/checks.py, called directly: every refusal's whole message (the value as
shown, the problem, the fix) and the accepted side of every bound. The loader's tests
(test_config_errors.py) show the same checks through a file, by prefix."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic_core import PydanticCustomError

from config import checks
from core import aws_limits

BUCKET = "is not an S3 bucket name: it {}; use a name like viberglass-terraform-state"
KEY = "{}; use plain words joined by '/', like viberglass or teams/viberglass"
BRANCH = "is not a git branch name: it {}; use the branch Amplify builds, e.g. main"
BRANCH_CHARS = "contains a space, control character or one of ~ ^ : ? * [ \\"
BRANCH_SEQUENCES = "contains '..', '//' or '@{', or is '@'"
BRANCH_ENDS = "starts with '/' or '-', or ends with '/' or '.'"
BRANCH_PARTS = "has a part starting with '.' or ending with '.lock'"
ECR = (
    "is not an ECR repository name (2-256 lower-case letters and digits in words joined by '.', '_', '-', "
    "namespaces by '/'); write it like viberator-worker-codex"
)
RESERVED = "uses a prefix or suffix S3 reserves"
ROW = "has two dots, or a dot next to a dash, in a row"
SLASHES = "has an empty path segment or a leading/trailing slash"
TABLE = (
    "is not a DynamoDB table name (3-255 letters, digits, '_', '-', '.'); use a name like viberglass-terraform-locks"
)

REFUSED: list[tuple[Callable[[str], str], str, str]] = [
    (checks.s3_bucket, "ab", "'ab' " + BUCKET.format("is 2 characters long (S3 allows 3-63)")),
    (checks.s3_bucket, "a" * 64,
     f"'{'a' * 57}'... (64 characters) " + BUCKET.format("is 64 characters long (S3 allows 3-63)")),
    (checks.s3_bucket, "Upper", "'Upper' " + BUCKET.format(
        "may hold only lower-case letters, digits, dots and dashes, and must start and end with a letter or digit")),
    (checks.s3_bucket, "a..b", "'a..b' " + BUCKET.format(ROW)),
    (checks.s3_bucket, "a.-b", "'a.-b' " + BUCKET.format(ROW)),
    (checks.s3_bucket, "a-.b", "'a-.b' " + BUCKET.format(ROW)),
    (checks.s3_bucket, "192.168.1.1", "'192.168.1.1' " + BUCKET.format("is formatted as an IP address")),
    *[(checks.s3_bucket, name, f"{name!r} " + BUCKET.format(RESERVED)) for name in
      ("xn--abc", "sthree-x", "amzn-s3-demo-x", "abc-s3alias", "abc--ol-s3", "abc.mrap", "abc--x-s3", "abc--table-s3")],
    (checks.dynamodb_table, "ab", f"'ab' {TABLE}"),
    (checks.dynamodb_table, "a b c", f"'a b c' {TABLE}"),
    (checks.state_key_prefix, "", "'' " + KEY.format("is empty")),
    (checks.state_key_prefix, "/a", "'/a' " + KEY.format(SLASHES)),
    (checks.state_key_prefix, "a/", "'a/' " + KEY.format(SLASHES)),
    (checks.state_key_prefix, "a//b", "'a//b' " + KEY.format(SLASHES)),
    (checks.state_key_prefix, "a/../b",
     "'a/../b' " + KEY.format("has a '..' segment (a path must not climb out of its prefix)")),
    (checks.state_key_prefix, "a/./b",
     "'a/./b' " + KEY.format("has a '.' segment (a path must not climb out of its prefix)")),
    (checks.state_key_prefix, "a/b c",
     "'a/b c' " + KEY.format("has the segment 'b c' with characters outside [A-Za-z0-9_.-]+")),
    (checks.state_key_prefix, "a" * 901, f"'{'a' * 57}'... (901 characters) "
     + KEY.format("is longer than 900 characters (S3 keys hold at most 1,024 bytes)")),
    (checks.repository_path, "", "'' is empty; give the folder relative to the repository root, like apps/frontend"),
    (checks.repository_path, "apps/../x", "'apps/../x' has a '..' segment (a path must not climb out of its prefix); "
     "give the folder relative to the repository root, like apps/frontend"),
    (checks.git_branch, "", "'' " + BRANCH.format("is empty")),
    (checks.git_branch, "a" * 256,
     f"'{'a' * 57}'... (256 characters) " + BRANCH.format("is 256 characters long (Amplify allows 255)")),
    *[(checks.git_branch, name, f"{name!r} " + BRANCH.format(BRANCH_CHARS)) for name in
      ("a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a\tb", "a\x7fb")],
    (checks.git_branch, "ä", "'ä' " + BRANCH.format("contains non-ASCII characters")),
    *[(checks.git_branch, name, f"{name!r} " + BRANCH.format(BRANCH_SEQUENCES))
      for name in ("@", "a@{b", "a..b", "a//b")],
    *[(checks.git_branch, name, f"{name!r} " + BRANCH.format(BRANCH_ENDS)) for name in ("/a", "-a", "a/", "a.")],
    *[(checks.git_branch, name, f"{name!r} " + BRANCH.format(BRANCH_PARTS))
      for name in ("a/.b", "a.lock", "x/a.lock/y")],
    *[(checks.ecr_repository, name, f"{name!r} {ECR}") for name in ("a", "A", "a--b", "a/", "/a", "a//b")],
    (checks.ecr_repository, "a" * 257, f"'{'a' * 57}'... (257 characters) {ECR}"),
    (checks.account_id, "12345678901",
     "'12345678901' is not an AWS account id; write the 12 ASCII digits in quotes, e.g. \"123456789012\""),
    (checks.account_id, "١٢٣٤٥٦٧٨٩٠١٢",
     "'١٢٣٤٥٦٧٨٩٠١٢' is not an AWS account id; write the 12 ASCII digits in quotes, e.g. \"123456789012\""),
    (checks.cidr, "10.0.0/16", "'10.0.0/16' is not an IPv4 CIDR block; write it like 10.0.0.0/16"),
    (checks.cidr, "10.0.0.256/16", "'10.0.0.256/16' is not an IPv4 CIDR block; write it like 10.0.0.0/16"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "value", "message"), REFUSED, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(REFUSED)]
)
def test_each_refusal_shows_the_value_the_problem_and_the_fix(
    check: Callable[[str], str], value: str, message: str
) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        check(value)
    assert caught.value.message() == message
    assert caught.value.type == checks.REFUSED


ACCEPTED: list[tuple[Callable[[str], str], str]] = [
    (checks.s3_bucket, "abc"), (checks.s3_bucket, "a" * 63), (checks.s3_bucket, "my.bucket-1"),
    (checks.s3_bucket, "1.2.3"), (checks.dynamodb_table, "a_b"), (checks.dynamodb_table, "A" * 255),
    (checks.state_key_prefix, "a" * 900), (checks.state_key_prefix, "teams/viberglass.v2"),
    (checks.repository_path, "apps/frontend"), (checks.repository_path, "Apps/Web-Frontend_2"),
    (checks.git_branch, "a" * 255), (checks.git_branch, "feature/x-1.2"), (checks.git_branch, "a@b"),
    (checks.ecr_repository, "ab"), (checks.ecr_repository, "a" * 256),
    (checks.ecr_repository, "dev/viberator-worker.x_y"),
    (checks.account_id, "123456789012"), (checks.cidr, "10.0.0.0/16"),
]  # fmt: skip


@pytest.mark.parametrize(("check", "value"), ACCEPTED, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(ACCEPTED)])
def test_the_accepted_side_of_each_bound(check: Callable[[str], str], value: str) -> None:
    assert check(value) == value


def test_show_quotes_strings_and_cuts_long_ones_at_60_characters() -> None:
    assert checks.show("a" * 60) == repr("a" * 60)
    assert checks.show("a" * 61) == f"'{'a' * 57}'... (61 characters)"
    assert checks.show("b" * 1500) == f"'{'b' * 57}'... (1,500 characters)"
    assert checks.show("a" * 20, limit=10) == "'aaaaaaa'... (20 characters)"


def test_show_writes_other_values_as_yaml_would() -> None:
    assert [checks.show(v) for v in (True, False, None, {"a": 1}, [1], 7)] == [
        "true", "false", "null", "a mapping", "a list", "7"
    ]  # fmt: skip
    assert checks.show(10**70) == str(10**70)[:57] + "..."
    assert checks.show(10**59) == str(10**59)


def test_a_pattern_check_refuses_too_short_too_long_and_mismatched_values() -> None:
    run = checks.pattern(r"[a-z]+", "a word", "hello", max_length=5, min_length=2)
    assert run("abc") == "abc" and run("ab") == "ab" and run("abcde") == "abcde"
    messages = []
    for value in ("a", "abcdef", "ab1"):
        with pytest.raises(PydanticCustomError) as caught:
            run(value)
        messages.append(caught.value.message())
    assert messages == [
        "'a' is too short for a word; write it like hello",
        "'abcdef' is longer than 5 characters, the limit for a word; write it like hello",
        "'ab1' is not a word; write it like hello",
    ]
    assert run.__doc__ == "a word (e.g. `hello`, at most 5 characters)"
    assert checks.pattern(r"[a-z]+", "a word", "hello").__doc__ == "a word (e.g. `hello`)"


def test_an_unknown_region_names_the_closest_known_one() -> None:
    with pytest.raises(PydanticCustomError) as caught:
        checks.aws_region("eu-west-9")
    message = caught.value.message()
    assert message.startswith("'eu-west-9' is not an AWS region (the installed AWS SDK knows ")
    assert message.endswith("); did you mean eu-west-3? use a region such as eu-west-1, us-east-1 or ap-southeast-2")
    with pytest.raises(PydanticCustomError) as far:
        checks.aws_region("zzzzzzzz")
    assert far.value.message().endswith(
        " is not an AWS region (the installed AWS SDK knows " + str(len(aws_limits.regions()))
        + "); use a region such as eu-west-1, us-east-1 or ap-southeast-2"
    )  # fmt: skip
    assert checks.aws_region("eu-west-1") == "eu-west-1"


def test_an_environment_name_is_refused_with_its_rule_and_an_example() -> None:
    with pytest.raises(PydanticCustomError) as caught:
        checks.env_name("Bad_Name")
    assert caught.value.message() == (
        "'Bad_Name' is not an environment name (lower-case letters and digits, words joined by single dashes); "
        "use lower-case letters and digits, words joined by single dashes, e.g. prod-eu"
    )
    assert checks.env_name("prod-eu") == "prod-eu"
