"""The plain command lines skip argparse; they must mean exactly what argparse says."""

import subprocess
import sys

import pytest

from mkcert.cli.arguments import parse
from mkcert.cli.main import DEFAULT_OPTIONS, plain_options


@pytest.mark.parametrize("multi_call, arguments", [
    (False, []),
    (False, ["/etc/courier/imapd"]),
    (False, ["/etc/courier/imapd.pem"]),
    (True, ["imapd"]),
    (True, ["imapd", "/tmp/x/imapd"]),
])
def test_plain_command_lines_give_argparses_options(multi_call, arguments):
    fast = plain_options(arguments, multi_call)
    assert fast is not None
    assert vars(fast) == vars(parse("mkimapdcert", multi_call, arguments))


def test_every_option_has_a_default():
    assert set(vars(parse("mkimapdcert", False, []))) == set(DEFAULT_OPTIONS)


@pytest.mark.parametrize("multi_call, arguments", [
    (False, ["-q"]),
    (False, ["--", "-odd-name"]),
    (False, [""]),
    (False, ["a", "b"]),
    (True, []),
    (True, ["imapd", "x", "y"]),
    (False, ["--install"]),
])
def test_anything_else_goes_to_argparse(multi_call, arguments):
    assert plain_options(arguments, multi_call) is None


def test_plain_run_does_not_load_argparse(layout):
    """The package-script path: an existing PEM, answered without argparse."""
    (layout.certsdir / "imapd.pem").write_text("x")
    code = ("import sys; from mkcert.cli import main as cli; status = cli.main(program='mkimapdcert'); "
            "print(status, 'argparse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=layout.env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[-2:] == ["1", "False"]


@pytest.mark.parametrize("arguments, message", [
    (["--key", "k"], "--key only goes with --install"),
    (["--from-certbot", "d"], "--from-certbot only goes with --install"),
    (["--install"], "--install needs --key and --cert, or --from-certbot"),
    (["--install", "--key", "k"], "--install needs --key and --cert, or --from-certbot"),
    (["--install", "--from-certbot", "d", "--key", "k"], "not with --key, --cert or --chain"),
    (["--install", "--from-certbot", "d", "--san", "a.example"], "--san is for making"),
    (["--install", "--from-certbot", "d", "--days", "3"], "--days is for making"),
    (["--install", "--from-certbot", "d", "--check"], "not allowed with argument"),  # exit 3
    (["--install", "--from-certbot", "d", "--renew"], "not allowed with argument"),
])
def test_install_option_combinations_are_usage_errors(layout, arguments, message):
    result = layout.command("mkimapdcert", *arguments)
    # With --check, a usage error is the monitoring plugins' UNKNOWN.
    assert result.returncode == (3 if "--check" in arguments else 2), result
    assert message in result.stderr
    assert layout.listing() == []
