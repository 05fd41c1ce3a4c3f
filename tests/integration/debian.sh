#!/bin/bash
# Integration test of the courier-mkcert Debian package with Debian's own
# Courier packages, in a throw-away Debian chroot.
#
#   tests/integration/debian.sh [path/to/courier-mkcert_*.deb]
#
# Without an argument the .deb is built first (tests/integration/build-deb.sh).
# Needs root, debootstrap, chroot, mount, and the Debian mirror named in this
# machine's apt sources (nothing else from the network).
#
# What it proves, in one chroot:
#  A. courier-mkcert installed BEFORE Courier: Courier's files land diverted
#     (PATH.courier), /usr/sbin/mk* are ours, courier-base/-imap/-pop/-mta's
#     postinst run our commands: imapd.pem, pop3d.pem, esmtpd.pem hold a
#     matching key and certificate, mode 0640 root:courier, dhparams.pem is
#     valid, and Courier's couriertls serves imapd.pem in a real handshake
#     (DHE with dhparams.pem), and the new one after --renew; the renewal
#     timer is enabled and the cron job / renew-all helper renew what is due.
#     A throw-away CA's key, leaf and intermediate laid out as certbot does go
#     in with --install --from-certbot (0640 root:courier kept, .old kept):
#     couriertls serves exactly leaf then intermediate and a client trusting
#     only the root verifies it; a second --install changes nothing, a key
#     that is not the leaf's is refused, --check reads the chain, --renew
#     leaves the CA's certificate alone, and certbot's deploy hook
#     (mkcert-install.conf) makes couriertls serve a renewed leaf.
#     Removing and purging courier-mkcert gives Courier its scripts back
#     (same content, no diversions, no PATH.courier left over), and they work.
#  B. courier-mkcert installed AFTER Courier: the installed scripts are
#     renamed aside, Courier's postinst (dpkg-reconfigure) runs ours, a
#     reinstall of ours (the upgrade path) and of Courier's packages keeps
#     everything in place, a Courier package purged
#     while diverted leaves nothing behind, and purging ours restores the rest.
#
# Environment:
#  COURIER_MKCERT_DEBIAN_CACHE   a directory: the debootstrapped base system is
#                                kept there as a tarball and reused (CI starts
#                                without it; then debootstrap runs each time)
#  COURIER_MKCERT_DEBIAN_MIRROR  the mirror URL (default: from apt sources)
#  COURIER_MKCERT_DEBIAN_SUITE   default: bookworm
#  COURIER_MKCERT_KEEP           1: keep the chroot (still unmounted) to inspect
set -eu

suite=${COURIER_MKCERT_DEBIAN_SUITE:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

# The paths courier-mkcert takes over (debian/courier-mkcert.preinst).
TAKEN_OVER="
/usr/lib/courier/mkcouriercert
/usr/lib/courier/mkdhparams
/usr/lib/courier/mkimapdcert
/usr/lib/courier/mkpop3dcert
/usr/lib/courier/mkesmtpdcert
/usr/sbin/mkdhparams
/usr/sbin/mkimapdcert
/usr/sbin/mkpop3dcert
/usr/sbin/mkesmtpdcert
/usr/share/man/man8/mkdhparams.8.gz
/usr/share/man/man8/mkimapdcert.8.gz
/usr/share/man/man8/mkpop3dcert.8.gz
/usr/share/man/man8/mkesmtpdcert.8.gz
"
COURIER_PACKAGES="courier-base courier-imap courier-pop courier-mta"

started=$(date +%s)
log() { printf '[%4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
    echo "$0: must run as root (debootstrap, chroot, mount)" >&2
    exit 2
fi
for tool in debootstrap chroot mount umount dpkg-deb findmnt; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/courier-mkcert-debian.XXXXXX")
root="$work/root"
aptlog="$work/apt.log"
tcpd_pid=/run/courier-mkcert-test.pid

cleanup() {
    status=$?
    set +e
    trap - EXIT INT TERM
    if [ -d "$root" ]; then
        # couriertcpd (and anything else still running inside the chroot).
        if [ -f "$root$tcpd_pid" ]; then
            chroot "$root" /usr/sbin/couriertcpd -pid="$tcpd_pid" -stop >/dev/null 2>&1
        fi
        for p in /proc/[0-9]*; do
            if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
                kill -TERM "${p#/proc/}" 2>/dev/null
            fi
        done
        sleep 0.2
        for p in /proc/[0-9]*; do
            if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
                kill -KILL "${p#/proc/}" 2>/dev/null
            fi
        done
        # Every mount under the chroot, innermost first.
        findmnt -rn -o TARGET | grep -F "$root/" | sort -r | while read -r m; do
            umount "$m" 2>/dev/null || umount -l "$m"
        done
    fi
    if [ "$status" != 0 ] && [ -s "$aptlog" ]; then
        echo "--- last lines of $aptlog:" >&2
        tail -n 40 "$aptlog" >&2
    fi
    if findmnt -rn -o TARGET | grep -qF "$root/"; then
        echo "$0: mounts left under $root; not removing $work" >&2
    elif [ "${COURIER_MKCERT_KEEP:-0}" = 1 ]; then
        echo "$0: kept $work" >&2
    else
        rm -rf --one-file-system "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the .deb -------------------------------------------------------------
if [ $# -ge 1 ]; then
    deb=$(realpath "$1")
else
    log "building the .deb"
    deb=$("$here/build-deb.sh" "$work/deb")
fi
[ -f "$deb" ] || fail "no such .deb: $deb"

# --- the mirror, from this machine's apt sources ----------------------------
# The first "deb" source for $suite with component main: deb822 .sources
# files first, then one-line sources.list entries.
mirror_from_apt_sources() {
    local f apt=${1:-/etc/apt}
    for f in "$apt"/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$suite" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") &&
                    (" " comps " ") ~ / main / && enabled != "no" && uris != "") {
                    split(uris, u, " "); print u[1]; found = 1; exit
                }
                types = suites = comps = uris = enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            {
                key = tolower($1); sub(/:$/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "components") comps = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { if (!found) flush() }' "$f"
    done
    for f in "$apt"/sources.list "$apt"/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [options] URI SUITE COMPONENTS...
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
            awk -v suite="$suite" '$1 == "deb" && $3 == suite {
                for (i = 4; i <= NF; i++) if ($i == "main") { print $2; exit } }'
    done
}
mirror=${COURIER_MKCERT_DEBIAN_MIRROR:-$(mirror_from_apt_sources | head -n 1)}
[ -n "$mirror" ] || fail "no 'deb' source for $suite main in /etc/apt/sources*; set COURIER_MKCERT_DEBIAN_MIRROR"
log "mirror $mirror, suite $suite"

# --- the chroot ---------------------------------------------------------------
cache=${COURIER_MKCERT_DEBIAN_CACHE:-}
tarball=${cache:+$cache/$suite-minbase.tar.gz}
if [ -n "$tarball" ] && [ -f "$tarball" ]; then
    log "unpacking cached $tarball"
    mkdir "$root"
    tar -x -z -p --numeric-owner -f "$tarball" -C "$root"
else
    log "debootstrap --variant=minbase $suite"
    debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
    if [ -n "$tarball" ]; then
        mkdir -p "$cache"
        tar -c -z -f "$tarball.tmp" --numeric-owner -C "$root" . && mv "$tarball.tmp" "$tarball"
        log "cached the base system in $tarball"
    fi
fi
echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# Services must not start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"

in_chroot() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
apt_in_chroot() {
    echo "+ apt-get $*" >>"$aptlog"
    in_chroot apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "$@" >>"$aptlog" 2>&1 ||
        fail "apt-get $* (log: $aptlog)"
}
dpkg_in_chroot() {
    echo "+ dpkg $*" >>"$aptlog"
    in_chroot dpkg "$@" >>"$aptlog" 2>&1 || fail "dpkg $* (log: $aptlog)"
}

log "apt-get update"
apt_in_chroot update
cp "$deb" "$root/tmp/courier-mkcert.deb"

# --- helpers ------------------------------------------------------------------
# One line per path: "PATH L TARGET", "PATH F MD5" or "PATH -", for the
# paths in TAKEN_OVER (+ SUFFIX) under directory TOP.
state() {
    local top=$1 suffix=$2 p f
    for p in $TAKEN_OVER; do
        f="$top$p$suffix"
        if [ -L "$f" ]; then
            echo "$p L $(readlink "$f")"
        elif [ -f "$f" ]; then
            echo "$p F $(md5sum <"$f" | cut -d' ' -f1)"
        else
            echo "$p -"
        fi
    done
}
# Extract .deb files into a directory and print its name.
unpack() {
    local dir=$1 d
    shift
    mkdir -p "$dir"
    for d in "$@"; do dpkg-deb -x "$d" "$dir"; done
    echo "$dir"
}
same_state() {
    local what=$1 want=$2 got=$3
    if [ "$want" != "$got" ]; then
        diff <(echo "$want") <(echo "$got") >&2 || true
        fail "$what"
    fi
}
our_diversions() {
    in_chroot dpkg-divert --list | grep ' by courier-mkcert$' | sort || true
}
expected_diversions() {
    local p
    for p in $TAKEN_OVER; do
        echo "diversion of $p to $p.courier by courier-mkcert"
    done | sort
}
courier_debs() {
    local p v d
    for p in $COURIER_PACKAGES; do
        v=$(in_chroot dpkg-query -W -f '${Version}' "$p")
        d=$(ls "$root/var/cache/apt/archives/${p}_${v//:/%3a}_"*.deb 2>/dev/null | head -n 1)
        [ -n "$d" ] || fail "$p $v not in the chroot's apt cache"
        echo "$d"
    done
}
# Our commands are in place: every taken-over path is as in our .deb.
assert_ours_in_place() {
    same_state "taken-over paths are not courier-mkcert's ($1)" \
        "$(state "$ours" "")" "$(state "$root" "")"
    same_state "diversions ($1)" "$(expected_diversions)" "$(our_diversions)"
    in_chroot dpkg --verify courier-mkcert || fail "dpkg --verify courier-mkcert ($1)"
}
# Courier's scripts are back, unchanged, with no diversion and no leftover.
assert_courier_restored() {
    same_state "Courier's files not restored ($1)" "$(state "$courier" "")" "$(state "$root" "")"
    same_state "PATH.courier left behind ($1)" "$(state /nonexistent .courier)" \
        "$(state "$root" .courier)"
    [ -z "$(our_diversions)" ] || fail "diversions left behind ($1): $(our_diversions)"
    in_chroot dpkg --verify $COURIER_PACKAGES || fail "dpkg --verify $COURIER_PACKAGES ($1)"
}
# PEM at /etc/courier/NAME.pem: ours, key + matching certificate, 0640 root:courier.
assert_pem() {
    local pem=/etc/courier/$1.pem
    [ -f "$root$pem" ] || fail "$pem missing"
    [ "$(in_chroot stat -c '%a %U:%G' "$pem")" = "640 root:courier" ] ||
        fail "$pem is $(in_chroot stat -c '%a %U:%G' "$pem"), not 640 root:courier"
    # Courier's certtool run would start with "Public Key Info:" text.
    head -n 1 "$root$pem" | grep -q '^-----BEGIN .*PRIVATE KEY-----$' ||
        fail "$pem does not start with a private key (made by Courier's script?)"
    grep -q '^-----BEGIN CERTIFICATE-----$' "$root$pem" || fail "$pem has no certificate"
    local kpub cpub
    kpub=$(in_chroot openssl pkey -in "$pem" -pubout) || fail "$pem: no readable key"
    cpub=$(in_chroot openssl x509 -in "$pem" -noout -pubkey) || fail "$pem: no readable certificate"
    [ "$kpub" = "$cpub" ] || fail "$pem: key and certificate do not match"
}
# dhparams.pem as Debian's courier-base leaves it.  Debian's Courier is a
# GnuTLS build, so mkdhparams (ours as Courier's) writes certtool's
# parameters: FIPS 186-4 style, p prime but not a safe prime, which
# `openssl dhparam -check` rejects by design ("p not safe prime") although
# GnuTLS uses them.  So: p is prime and couriertls serves DHE with them (below);
# `openssl dhparam -check` is applied to our OpenSSL-flavour output instead.
assert_dhparams() {
    local f=/etc/courier/dhparams.pem p
    [ "$(in_chroot stat -c '%a %U:%G' "$f")" = "640 root:courier" ] ||
        fail "$f is $(in_chroot stat -c '%a %U:%G' "$f"), not 640 root:courier"
    dh_bits=$(in_chroot openssl dhparam -in "$f" -noout -text | sed -n 's/.*DH Parameters: (\([0-9]*\) bit).*/\1/p')
    [ -n "$dh_bits" ] && [ "$dh_bits" -ge 2048 ] || fail "$f: no DH parameters of 2048 bits or more"
    p=$(in_chroot openssl dhparam -in "$f" -noout -text |
        awk '/^ *P:/ {on = 1; next} /^ *G:|generator|recommended/ {on = 0} on' | tr -d ' :\n')
    in_chroot openssl prime -hex "$p" | grep -q 'is prime$' || fail "$f: p is not prime"
}

# --- A: courier-mkcert first, then Courier ----------------------------------
ours=$(unpack "$work/ours" "$deb")
# Every taken-over path is in our .deb (so no comparison below is vacuous).
! state "$ours" "" | grep ' -$' || fail "paths missing from $deb"

log "A: installing courier-mkcert (and its dependencies) into an empty system"
apt_in_chroot install /tmp/courier-mkcert.deb
assert_ours_in_place "before Courier"
same_state "PATH.courier present without Courier" "$(state /nonexistent .courier)" \
    "$(state "$root" .courier)"
in_chroot mkimapdcert --version >/dev/null || fail "mkimapdcert --version"

log "A: installing courier-imap courier-pop courier-mta (their postinst run our commands)"
apt_in_chroot install courier-imap courier-pop courier-mta openssl
courier=$(unpack "$work/courier" $(courier_debs))
! state "$courier" "" | grep ' -$' || fail "paths missing from Courier's packages"
assert_ours_in_place "after Courier"
same_state "Courier's files are not at PATH.courier" "$(state "$courier" "")" \
    "$(state "$root" .courier)"
for name in imapd pop3d esmtpd; do
    assert_pem "$name"
done
assert_dhparams
log "A: PEMs and dhparams.pem verified"

# Courier's own behaviour, kept: an existing PEM is refused with status 1.
set +e
out=$(in_chroot mkimapdcert 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] && [ "$out" = "/etc/courier/imapd.pem already exists." ] ||
    fail "mkimapdcert over an existing PEM: status $rc, output '$out'"
before=$(md5sum <"$root/etc/courier/dhparams.pem")
in_chroot mkdhparams || fail "mkdhparams with a fresh dhparams.pem"
[ "$(md5sum <"$root/etc/courier/dhparams.pem")" = "$before" ] || fail "mkdhparams replaced a fresh file"
# The OpenSSL flavour (our own safe-prime search) and an RFC 7919 group:
# both must pass OpenSSL's own check.  1024 bits keeps the search to seconds
# on a busy CI machine; the default size is the unit tests' business.
in_chroot env COURIER_SSLLIB=openssl DH_BITS=1024 TLS_DHPARAMS=/tmp/dh-openssl.pem mkdhparams -q ||
    fail "COURIER_SSLLIB=openssl mkdhparams"
in_chroot env DH_GROUP=ffdhe3072 TLS_DHPARAMS=/tmp/dh-ffdhe3072.pem mkdhparams -q ||
    fail "DH_GROUP=ffdhe3072 mkdhparams"
for f in /tmp/dh-openssl.pem /tmp/dh-ffdhe3072.pem; do
    [ "$(in_chroot stat -c '%a %U' "$f")" = "600 courier" ] ||
        fail "$f is $(in_chroot stat -c '%a %U' "$f"), not 600 courier"
    in_chroot openssl dhparam -in "$f" -check -noout >>"$aptlog" 2>&1 ||
        fail "openssl dhparam -check $f"
done

log "A: TLS handshake: Courier's couriertcpd + couriertls serving our imapd.pem"
port=$(in_chroot python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
in_chroot env TLS_CERTFILE=/etc/courier/imapd.pem TLS_DHPARAMS=/etc/courier/dhparams.pem \
    /usr/sbin/couriertcpd -pid="$tcpd_pid" -nodnslookup -noidentlookup -maxprocs=4 \
    -stderr=/tmp/couriertcpd.log -address=127.0.0.1 "$port" \
    /usr/bin/couriertls -server -tcpd /bin/cat || fail "couriertcpd"
served_fingerprint() {
    local served="" _
    for _ in $(seq 50); do
        served=$(echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$port" 2>/dev/null |
            in_chroot openssl x509 -noout -fingerprint -sha1 2>/dev/null) && [ -n "$served" ] && break
        sleep 0.1
    done
    [ -n "$served" ] || { cat "$root/tmp/couriertcpd.log" >&2; fail "no TLS handshake on port $port"; }
    echo "$served"
}
served=$(served_fingerprint)
want=$(in_chroot openssl x509 -in /etc/courier/imapd.pem -noout -fingerprint -sha1)
[ "$served" = "$want" ] || fail "couriertls served '$served', imapd.pem has '$want'"
# A DHE handshake (TLS 1.2) uses dhparams.pem: couriertls accepted it.
temp_key=$(echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
    -cipher DHE 2>/dev/null | sed -n 's/^Server Temp Key: //p')
[ "$temp_key" = "DH, $dh_bits bits" ] ||
    fail "DHE handshake: server temp key '$temp_key', want 'DH, $dh_bits bits' from dhparams.pem"
echo_back=$(in_chroot timeout 20 python3 -c '
import socket, ssl, sys
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
    with context.wrap_socket(raw) as tls:
        tls.sendall(b"hello over TLS\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = tls.recv(100)
            if not chunk:
                break
            data += chunk
        print(data.decode().strip())
' "$port")
[ "$echo_back" = "hello over TLS" ] || fail "no data through couriertls: '$echo_back'"
log "A: couriertls served $served, DHE with $temp_key"

# --check on Debian's PEM, then --renew --force under the running server:
# couriertls reads the PEM per connection, so it serves the new one at once,
# and Debian's 0640 root:courier survives the renewal.
in_chroot mkimapdcert --check >>"$aptlog" 2>&1 || fail "mkimapdcert --check: not OK"
in_chroot mkimapdcert --renew --force -q >>"$aptlog" 2>&1 || fail "mkimapdcert --renew --force"
assert_pem imapd
[ -f "$root/etc/courier/imapd.pem.old" ] || fail "--renew kept no imapd.pem.old"
renewed=$(in_chroot openssl x509 -in /etc/courier/imapd.pem -noout -fingerprint -sha1)
[ "$renewed" != "$want" ] || fail "--renew --force did not make a new certificate"
served=$(served_fingerprint)
[ "$served" = "$renewed" ] || fail "after --renew couriertls served '$served', imapd.pem has '$renewed'"
log "A: --check OK; after --renew --force couriertls serves $renewed"

# Unattended renewal: the timer is enabled; the cron job (no systemd in the
# chroot) renews nothing that is not due; the helper with a 400-day window
# renews all three 365-day certificates, keeping Debian's mode and owner.
timer_link=/etc/systemd/system/timers.target.wants/courier-mkcert-renew.timer
[ -L "$root$timer_link" ] || fail "courier-mkcert-renew.timer is not enabled"
fingerprints() {
    local name
    for name in imapd pop3d esmtpd; do
        in_chroot openssl x509 -in "/etc/courier/$name.pem" -noout -fingerprint -sha1
    done
}
before=$(fingerprints)
in_chroot /etc/cron.monthly/courier-mkcert >>"$aptlog" 2>&1 || fail "/etc/cron.monthly/courier-mkcert"
[ "$(fingerprints)" = "$before" ] || fail "the monthly cron job renewed certificates that were not due"
in_chroot /usr/lib/courier/courier-mkcert-renew-all 400 >>"$aptlog" 2>&1 ||
    fail "courier-mkcert-renew-all 400"
after=$(fingerprints)
for name in imapd pop3d esmtpd; do
    assert_pem "$name"
done
[ -z "$(comm -12 <(echo "$before" | sort) <(echo "$after" | sort))" ] ||
    fail "courier-mkcert-renew-all 400 left a certificate unrenewed"
log "A: renewal timer enabled; cron job and courier-mkcert-renew-all behave"

# --install of a CA's key and chain, laid out as certbot does, while
# couriertls still serves imapd.pem: a throw-away root CA, an intermediate
# and a leaf for localhost (P-256: made in a blink), by the chroot's openssl.
log "A: --install --from-certbot: couriertls serves the CA's leaf and chain"
mkdir "$root/tmp/ca"
cat >"$root/tmp/ca/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
in_chroot sh -euc '
    cd /tmp/ca
    umask 077
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out root.key
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out intermediate.key
    openssl req -new -x509 -config ca.cnf -extensions root -key root.key \
        -subj "/CN=courier-mkcert test root" -days 365 -out root.pem
    openssl req -new -config ca.cnf -key intermediate.key -subj "/CN=courier-mkcert test intermediate" |
        openssl x509 -req -CA root.pem -CAkey root.key -extfile ca.cnf -extensions intermediate \
            -days 365 -out intermediate.pem
' >>"$aptlog" 2>&1 || fail "making a throw-away CA"
# Version N of certbot's lineage "test": a new key and leaf for localhost in
# archive/test/, live/test/*.pem relinked to them (certbot's modes: key 0600,
# live/ and archive/ 0700, nothing writable by others).
certbot_version() {
    in_chroot sh -euc '
        n=$1 archive=/etc/letsencrypt/archive/test live=/etc/letsencrypt/live/test
        umask 022
        mkdir -p "$archive" "$live"
        chmod 700 /etc/letsencrypt/archive /etc/letsencrypt/live
        (umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -out "$archive/privkey$n.pem")
        openssl req -new -config /tmp/ca/ca.cnf -key "$archive/privkey$n.pem" -subj /CN=localhost |
            openssl x509 -req -CA /tmp/ca/intermediate.pem -CAkey /tmp/ca/intermediate.key \
                -extfile /tmp/ca/ca.cnf -extensions leaf -days 90 -out "$archive/cert$n.pem"
        cat /tmp/ca/intermediate.pem >"$archive/chain$n.pem"
        cat "$archive/cert$n.pem" "$archive/chain$n.pem" >"$archive/fullchain$n.pem"
        for f in privkey cert chain fullchain; do
            ln -sfn "../../archive/test/$f$n.pem" "$live/$f.pem"
        done
    ' sh "$1" >>"$aptlog" 2>&1 || fail "certbot lineage version $1"
}
# The SHA-256 fingerprint of each certificate in the PEM text on stdin, in order.
cert_fingerprints() {
    local line block=""
    while IFS= read -r line; do
        case $line in
            "-----BEGIN CERTIFICATE-----") block=$line$'\n' ;;
            "-----END CERTIFICATE-----")
                [ -n "$block" ] || continue
                printf '%s%s\n' "$block" "$line" | in_chroot openssl x509 -noout -fingerprint -sha256 ||
                    fail "an unreadable certificate"
                block="" ;;
            *) [ -z "$block" ] || block+=$line$'\n' ;;
        esac
    done
}
# The certificates couriertls sends in a handshake, as PEM text.
served_chain() {
    echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$port" -showcerts 2>/dev/null |
        sed -n '/^-----BEGIN CERTIFICATE-----$/,/^-----END CERTIFICATE-----$/p'
}
certbot_version 1
live=/etc/letsencrypt/live/test
archive=/etc/letsencrypt/archive/test
[ "$(in_chroot stat -L -c '%a %U' "$live/privkey.pem")" = "600 root" ] || fail "$live/privkey.pem is not 0600 root"
# Without the intermediate the leaf does not verify: the chain served below matters.
! in_chroot openssl verify -CAfile /tmp/ca/root.pem "$archive/cert1.pem" >>"$aptlog" 2>&1 ||
    fail "the leaf verifies without its intermediate"
before=$(in_chroot openssl x509 -in /etc/courier/imapd.pem -noout -fingerprint -sha256)
in_chroot mkimapdcert --install --from-certbot "$live" >>"$aptlog" 2>&1 ||
    fail "mkimapdcert --install --from-certbot $live"
assert_pem imapd
[ -f "$root/etc/courier/imapd.pem.old" ] || fail "--install kept no imapd.pem.old"
[ "$(in_chroot openssl x509 -in /etc/courier/imapd.pem.old -noout -fingerprint -sha256)" = "$before" ] ||
    fail "imapd.pem.old is not the PEM --install replaced"
# Key, leaf, intermediate: the PEM holds what certbot's files hold.
[ "$(in_chroot openssl pkey -in /etc/courier/imapd.pem)" = "$(in_chroot openssl pkey -in "$live/privkey.pem")" ] ||
    fail "imapd.pem does not hold certbot's private key"
want_chain=$(cat "$root$archive/cert1.pem" "$root$archive/chain1.pem" | cert_fingerprints)
[ "$(echo "$want_chain" | wc -l)" = 2 ] || fail "the certbot files do not hold a leaf and an intermediate"
[ "$(cert_fingerprints <"$root/etc/courier/imapd.pem")" = "$want_chain" ] ||
    fail "imapd.pem does not hold leaf then intermediate"
served=$(served_chain | cert_fingerprints)
same_state "couriertls did not serve leaf then intermediate after --install" "$want_chain" "$served"
# A client that trusts only the root verifies the server (chain and name).
echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile /tmp/ca/root.pem \
    -verify_return_error -verify_hostname localhost >"$work/verify.log" 2>&1 ||
    { cat "$work/verify.log" >>"$aptlog"; fail "s_client -CAfile root.pem: couriertls's chain does not verify"; }
grep -q '^Verify return code: 0 (ok)$' "$work/verify.log" ||
    { cat "$work/verify.log" >>"$aptlog"; fail "s_client: no 'Verify return code: 0 (ok)'"; }
# Again: nothing to do, the very same file stays.
inode=$(stat -c %i "$root/etc/courier/imapd.pem")
out=$(in_chroot mkimapdcert --install --from-certbot "$live" 2>&1) || fail "a second --install: $out"
echo "$out" >>"$aptlog"
case $out in *unchanged*) ;; *) fail "a second --install did not say unchanged: $out" ;; esac
[ "$(stat -c %i "$root/etc/courier/imapd.pem")" = "$inode" ] || fail "a second --install replaced imapd.pem"
# A key that is not the leaf's is refused; the served certificate stays.
in_chroot sh -c 'umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out /tmp/ca/other.key' ||
    fail "openssl genpkey"
sum=$(md5sum <"$root/etc/courier/imapd.pem")
set +e
out=$(in_chroot mkimapdcert --install --key /tmp/ca/other.key --cert "$live/fullchain.pem" 2>&1)
rc=$?
set -e
echo "$out" >>"$aptlog"
[ "$rc" = 1 ] || fail "--install with a key not the leaf's: status $rc, output '$out'"
[ "$(md5sum <"$root/etc/courier/imapd.pem")" = "$sum" ] || fail "a refused --install changed imapd.pem"
[ "$(served_chain | cert_fingerprints)" = "$want_chain" ] || fail "a refused --install changed what couriertls serves"
# --check reads the installed PEM (Debian's self-signed one was CN=localhost
# too: the issuer tells them apart); --renew leaves what the CA issued alone.
out=$(in_chroot mkimapdcert --check 2>&1) || fail "mkimapdcert --check on the installed PEM: $out"
echo "$out" >>"$aptlog"
case $out in *localhost*"courier-mkcert test intermediate"*) ;;
    *) fail "mkimapdcert --check does not name the leaf and its issuer: $out" ;; esac
set +e
out=$(in_chroot mkimapdcert --renew --before 400 2>&1)
rc=$?
set -e
echo "$out" >>"$aptlog"
[ "$rc" = 1 ] && [ "$(md5sum <"$root/etc/courier/imapd.pem")" = "$sum" ] ||
    fail "--renew of a due CA-issued PEM: status $rc (want 1, the PEM untouched): $out"
log "A: couriertls serves the CA's leaf and intermediate; again unchanged; a wrong key refused"

# certbot renews: version 2 of the lineage, then the deploy hook as certbot
# runs it; the PEMs mkcert-install.conf names take the new leaf at once.
log "A: certbot deploy hook: couriertls serves the renewed leaf"
hook=/usr/share/courier-mkcert/certbot-deploy-hook
[ -x "$root$hook" ] || fail "$hook is not installed"
echo "imapd test" >"$root/etc/courier/mkcert-install.conf"
chmod 644 "$root/etc/courier/mkcert-install.conf"
certbot_version 2
want_chain=$(cat "$root$archive/cert2.pem" "$root$archive/chain2.pem" | cert_fingerprints)
[ "$(echo "$want_chain" | wc -l)" = 2 ] || fail "version 2 does not hold a leaf and an intermediate"
[ "$(echo "$want_chain" | head -n 1)" != "$(echo "$served" | head -n 1)" ] || fail "version 2 has the same leaf"
out=$(in_chroot env RENEWED_LINEAGE="$live" RENEWED_DOMAINS=localhost "$hook" 2>&1) ||
    fail "$hook: $out"
echo "$out" >>"$aptlog"
case $out in "/etc/courier/imapd.pem: installed "*) ;; *) fail "$hook said: $out" ;; esac
assert_pem imapd
same_state "couriertls did not serve the renewed leaf and intermediate after the hook" \
    "$want_chain" "$(served_chain | cert_fingerprints)"
# The PEM is certbot's now: the renewal timer's --renew passes over it.
sum=$(md5sum <"$root/etc/courier/imapd.pem")
out=$(in_chroot mkimapdcert --renew --before 400 2>&1) ||
    fail "--renew of a PEM mkcert-install.conf gives to certbot: $out"
echo "$out" >>"$aptlog"
case $out in *"certbot renews it"*) ;; *) fail "--renew said: $out" ;; esac
[ "$(md5sum <"$root/etc/courier/imapd.pem")" = "$sum" ] || fail "--renew changed certbot's PEM"
log "A: after the hook couriertls serves $(echo "$want_chain" | head -n 1); --renew leaves it to certbot"
in_chroot /usr/sbin/couriertcpd -pid="$tcpd_pid" -stop

# --- further parts: tests/integration/chroot.d/*.sh ---------------------------
# Each part is sourced here, in name order, with courier-mkcert and Courier's
# packages installed and no server running.  A part uses the helpers above
# (in_chroot, apt_in_chroot, log, fail, same_state, assert_pem,
# cert_fingerprints) and free_port below, works under its own names (its own
# PEMs, ports and pid files), stops every server it starts and leaves the
# taken-over paths alone: section A goes on after it.  The cleanup trap kills
# whatever a failing part left running in the chroot.
free_port() {
    in_chroot python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
for part in "$here"/chroot.d/*.sh; do
    [ -f "$part" ] || continue
    log "part $(basename "$part")"
    . "$part"
done

log "A: removing courier-mkcert"
apt_in_chroot remove courier-mkcert
assert_courier_restored "after remove"
log "A: purging courier-mkcert"
dpkg_in_chroot --purge courier-mkcert
assert_courier_restored "after purge"
[ ! -e "$root$timer_link" ] && [ ! -L "$root$timer_link" ] || fail "timer still enabled after purge"
[ "$(in_chroot dpkg-query -W -f '${db:Status-Status}' courier-mkcert 2>/dev/null || echo gone)" != installed ] ||
    fail "courier-mkcert still installed"
# Courier's own script works again (it uses certtool).
in_chroot mkimapdcert /tmp/restored >>"$aptlog" 2>&1 || fail "Courier's mkimapdcert after purge"
head -n 1 "$root/tmp/restored.pem" | grep -q '^-----BEGIN' && fail "/tmp/restored.pem looks like ours" || true
log "A: Courier's scripts restored and working"

# --- B: Courier first, then courier-mkcert ----------------------------------
log "B: installing courier-mkcert over an installed Courier"
apt_in_chroot install /tmp/courier-mkcert.deb
assert_ours_in_place "installed after Courier"
same_state "Courier's files were not renamed to PATH.courier" "$(state "$courier" "")" \
    "$(state "$root" .courier)"

log "B: Courier's postinst (dpkg-reconfigure courier-pop) runs our mkpop3dcert"
rm -f "$root/etc/courier/pop3d.pem"
echo "+ dpkg-reconfigure courier-pop" >>"$aptlog"
in_chroot dpkg-reconfigure -fnoninteractive courier-pop >>"$aptlog" 2>&1 || fail "dpkg-reconfigure courier-pop"
assert_pem pop3d

log "B: reinstalling courier-mkcert (the upgrade path)"
dpkg_in_chroot -i /tmp/courier-mkcert.deb
assert_ours_in_place "after reinstall"
same_state "Courier's files after reinstall" "$(state "$courier" "")" "$(state "$root" .courier)"

log "B: reinstalling courier-imap and courier-base while diverted (a Courier upgrade)"
apt_in_chroot install --reinstall courier-imap courier-base
assert_ours_in_place "after reinstalling courier-imap and courier-base"
same_state "Courier's files after its reinstall" "$(state "$courier" "")" "$(state "$root" .courier)"

log "B: purging courier-pop while its scripts are diverted"
apt_in_chroot purge courier-pop
[ ! -e "$root/usr/sbin/mkpop3dcert.courier" ] && [ ! -L "$root/usr/sbin/mkpop3dcert.courier" ] ||
    fail "courier-pop purged but /usr/sbin/mkpop3dcert.courier left"
assert_ours_in_place "after purging courier-pop"

log "B: purging courier-mkcert"
apt_in_chroot purge courier-mkcert
courier_no_pop=$(state "$courier" "" | sed -E 's@^(/usr/(sbin|lib/courier)/mkpop3dcert|/usr/share/man/man8/mkpop3dcert\.8\.gz) .*@\1 -@')
COURIER_PACKAGES="courier-base courier-imap courier-mta"
same_state "Courier's files not restored (B)" "$courier_no_pop" "$(state "$root" "")"
same_state "PATH.courier left behind (B)" "$(state /nonexistent .courier)" "$(state "$root" .courier)"
[ -z "$(our_diversions)" ] || fail "diversions left behind (B): $(our_diversions)"
in_chroot dpkg --verify $COURIER_PACKAGES || fail "dpkg --verify $COURIER_PACKAGES (B)"

log "PASS ($(( $(date +%s) - started ))s)"
