# --probe against what Courier really serves (sourced by tests/integration/debian.sh).
#
# A throw-away CA made with openssl (root, intermediate, leaves), a base PEM
# and per-domain files named as Courier's SNI lookup wants them
# (TLS_CERTFILE.NAME, a parent-domain file among them), served by
#   - Debian's couriertls through couriertcpd: TLS from the first byte;
#   - Courier's imapd (imaplogin) with STARTTLS, started as Debian's
#     /usr/lib/courier/imapd does, from /etc/courier/imapd and imapd-ssl;
#   - Courier's courieresmtpd with STARTTLS, as /usr/lib/courier/esmtpd does;
# each on a free port, without init.  --probe reports OK for the base PEM and
# each domain file, and openssl s_client -servername receives the same leaf;
# then a stale (expired) domain file, one without its intermediate and one
# whose key belongs to another certificate give CRITICAL, WARNING, CRITICAL.
#
# The file a name is expected to get is given as PEMFILE (a symlink
# EXPECT.pem to TLS_CERTFILE.NAME), so only the line of that name is judged.

probe_dir=/tmp/mkcert-probe
probe_pids="/run/mkcert-probe-tls.pid /run/mkcert-probe-imapd.pid /run/mkcert-probe-esmtpd.pid"

log "probe: a CA, a base PEM and domain files planted with openssl in $probe_dir"
in_chroot sh -e -c '
    dir=$1
    mkdir -p "$dir/ca"
    cd "$dir/ca"
    ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
    printf "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n" >ca.ext
    openssl req -x509 $ec -keyout root.key -out root.pem -subj "/CN=probe test root" \
        -days 90 -addext basicConstraints=critical,CA:true \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -new $ec -keyout int.key -out int.csr -subj "/CN=probe test intermediate" 2>/dev/null
    openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -days 90 -extfile ca.ext \
        -out int.pem 2>/dev/null
    # leaf NAME DAYS SAN: NAME.key, NAME.pem (-1 days: expired since yesterday)
    leaf() {
        printf "basicConstraints=CA:false\nsubjectAltName=%s\n" "$3" >"$1.ext"
        openssl req -new $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
        openssl x509 -req -in "$1.csr" -CA int.pem -CAkey int.key -days "$2" \
            -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    }
    leaf mail.example.test 90 DNS:mail.example.test
    leaf a.example.test 90 DNS:a.example.test
    leaf example.net 90 "DNS:example.net,DNS:*.example.net"
    leaf s.example.test -1 DNS:s.example.test
    leaf m.example.test 90 DNS:m.example.test
    leaf k.example.test 90 DNS:k.example.test
    # pem FILE NAME [KEYNAME] [no-chain]: key, leaf, intermediate, as --install writes them
    pem() {
        { cat "${3:-$2}.key" "$2.pem"; [ "$4" = no-chain ] || cat int.pem; } >"$dir/$1"
        chgrp courier "$dir/$1"
        chmod 0640 "$dir/$1"
    }
    for service in imapd esmtpd; do
        pem "$service.pem" mail.example.test
        pem "$service.pem.a.example.test" a.example.test
        pem "$service.pem.example.net" example.net
    done
    # the expected file of each name, as PEMFILE.pem for --probe
    ln -s imapd.pem.a.example.test "$dir/expect-a.pem"
    ln -s imapd.pem.example.net "$dir/expect-net.pem"
    ln -s imapd.pem.s.example.test "$dir/expect-s.pem"
    ln -s imapd.pem.m.example.test "$dir/expect-m.pem"
    ln -s imapd.pem.k.example.test "$dir/expect-k.pem"
    ln -s esmtpd.pem.a.example.test "$dir/expect-smtp-a.pem"
' sh "$probe_dir" || fail "probe: planting the CA and the PEM files"

probe_wait() {
    local port=$1 _
    for _ in $(seq 100); do
        in_chroot python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
            "$port" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "probe: nothing listens on 127.0.0.1:$port"
}
# probe_line PORT NAME PEMFILE [options]: "STATE<TAB>problems" of the line for NAME
probe_line() {
    local port=$1 name=$2 pem=$3
    shift 3
    in_chroot mkimapdcert "$pem" --probe "127.0.0.1:$port" --servername "$name" --json \
        --timeout 5 "$@" | in_chroot python3 -c '
import json, sys
for answer in json.load(sys.stdin):
    if answer["servername"] == sys.argv[1]:
        print(answer["status"] + "\t" + " | ".join(answer["problems"]))' "$name"
}
probe_expect() {
    local want=$1 words=$2 got
    shift 2
    got=$(probe_line "$@") || fail "probe: --probe $* did not run"
    echo "+ --probe $*: $got" >>"$aptlog"
    case $got in
        "$want"$'\t'*"$words"*) ;;
        *) fail "probe: $*: want $want with '$words', got '$got'" ;;
    esac
}
# The leaf's fingerprint that openssl s_client receives for NAME, and that of FILE.
probe_oracle() {
    local port=$1 name=$2 file=$3 served want
    served=$(echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$port" \
        -servername "$name" 2>/dev/null | in_chroot openssl x509 -noout -fingerprint -sha256)
    want=$(in_chroot openssl x509 -in "$file" -noout -fingerprint -sha256)
    [ -n "$served" ] && [ "$served" = "$want" ] ||
        fail "probe: s_client -servername $name got '$served', $file holds '$want'"
}

log "probe: couriertls (TLS from the first byte), imapd and esmtpd (STARTTLS) on free ports"
port_tls=$(free_port)
in_chroot env TLS_CERTFILE="$probe_dir/imapd.pem" TLS_DHPARAMS=/etc/courier/dhparams.pem \
    /usr/sbin/couriertcpd -pid=/run/mkcert-probe-tls.pid -nodnslookup -noidentlookup \
    -maxprocs=8 -stderr=/tmp/mkcert-probe-tls.log -address=127.0.0.1 "$port_tls" \
    /usr/bin/couriertls -server -tcpd /bin/cat || fail "probe: couriertcpd + couriertls"
port_imap=$(free_port)
in_chroot /bin/sh -c '
    set -a
    prefix=/usr exec_prefix=/usr sbindir=/usr/sbin bindir=/usr/bin
    . /etc/courier/imapd
    . /etc/courier/imapd-ssl
    IMAP_STARTTLS=YES TLS_CERTFILE=$1 TLS_CACHEFILE=
    exec /usr/sbin/couriertcpd -pid=/run/mkcert-probe-imapd.pid -nodnslookup -noidentlookup \
        -maxprocs=8 -stderr=/tmp/mkcert-probe-imapd.log -address=127.0.0.1 "$2" \
        /usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir
' sh "$probe_dir/imapd.pem" "$port_imap" || fail "probe: couriertcpd + imaplogin"
port_smtp=$(free_port)
in_chroot /bin/sh -c '
    set -a
    prefix=/usr exec_prefix=/usr sysconfdir=/etc/courier sbindir=/usr/sbin
    . /etc/courier/esmtpd
    TLS_CERTFILE=$1
    exec /usr/sbin/couriertcpd -pid=/run/mkcert-probe-esmtpd.pid -user=courier -group=courier \
        -nodnslookup -noidentlookup -maxprocs=8 -stderr=/tmp/mkcert-probe-esmtpd.log \
        -address=127.0.0.1 "$2" /usr/sbin/courieresmtpd
' sh "$probe_dir/esmtpd.pem" "$port_smtp" || fail "probe: couriertcpd + courieresmtpd"
probe_wait "$port_tls"
probe_wait "$port_imap"
probe_wait "$port_smtp"

# The base PEM without SNI, on all three; every line OK, exit 0.
out=$(in_chroot mkimapdcert "$probe_dir/imapd" --probe "127.0.0.1:$port_tls" --timeout 5) ||
    fail "probe: couriertls, base PEM: $out"
echo "$out" >>"$aptlog"
case $out in "TLS OK - 127.0.0.1:$port_tls no SNI: CN=mail.example.test expires "*"as in $probe_dir/imapd.pem") ;;
    *) fail "probe: couriertls, base PEM: $out" ;; esac
out=$(in_chroot mkimapdcert "$probe_dir/imapd" --probe "127.0.0.1:$port_imap" --starttls imap \
    --timeout 5) || fail "probe: imapd STARTTLS: $out"
echo "$out" >>"$aptlog"
case $out in "TLS OK - 127.0.0.1:$port_imap STARTTLS imap no SNI: CN=mail.example.test "*) ;;
    *) fail "probe: imapd STARTTLS: $out" ;; esac
out=$(in_chroot mkesmtpdcert "$probe_dir/esmtpd" --probe "127.0.0.1:$port_smtp" --starttls smtp \
    --timeout 5) || fail "probe: courieresmtpd STARTTLS: $out"
echo "$out" >>"$aptlog"
case $out in "TLS OK - 127.0.0.1:$port_smtp STARTTLS smtp no SNI: CN=mail.example.test "*) ;;
    *) fail "probe: courieresmtpd STARTTLS: $out" ;; esac

# Each domain file, and the parent-domain file for a name under it: OK, and
# s_client receives the leaf of that very file.
probe_expect OK "" "$port_tls" a.example.test "$probe_dir/expect-a"
probe_oracle "$port_tls" a.example.test "$probe_dir/imapd.pem.a.example.test"
probe_expect OK "" "$port_tls" imap.example.net "$probe_dir/expect-net"
probe_oracle "$port_tls" imap.example.net "$probe_dir/imapd.pem.example.net"
probe_expect OK "" "$port_imap" a.example.test "$probe_dir/expect-a" --starttls imap
probe_expect OK "" "$port_smtp" a.example.test "$probe_dir/expect-smtp-a" --starttls smtp
# A name with no file of its own gets the base PEM, which does not cover it.
probe_expect CRITICAL "does not cover b.example.test" "$port_tls" b.example.test "$probe_dir/imapd"

log "probe: a stale domain file, one without its intermediate, one with another key"
in_chroot sh -e -c '
    dir=$1
    cd "$dir/ca"
    pem() {
        { cat "${3:-$2}.key" "$2.pem"; [ "$4" = no-chain ] || cat int.pem; } >"$dir/$1"
        chgrp courier "$dir/$1"
        chmod 0640 "$dir/$1"
    }
    pem imapd.pem.s.example.test s.example.test
    pem imapd.pem.m.example.test m.example.test "" no-chain
    pem imapd.pem.k.example.test k.example.test a.example.test
' sh "$probe_dir" || fail "probe: planting the broken domain files"
probe_expect CRITICAL "expired" "$port_tls" s.example.test "$probe_dir/expect-s"
probe_expect WARNING "no chain sent, and the issuer of the certificate is not among this system's trusted CAs" \
    "$port_tls" m.example.test "$probe_dir/expect-m"
probe_expect CRITICAL "$probe_dir/expect-k.pem: the private key does not match the certificate" \
    "$port_tls" k.example.test "$probe_dir/expect-k"
# The other names are served as before: one broken file takes one name off TLS.
probe_expect OK "" "$port_tls" a.example.test "$probe_dir/expect-a"
# The whole run's exit status is the worst state: CRITICAL.
status=0
in_chroot mkimapdcert "$probe_dir/imapd" --probe "127.0.0.1:$port_tls" --servername m.example.test \
    --servername k.example.test --timeout 5 >>"$aptlog" 2>&1 || status=$?
[ "$status" = 2 ] || fail "probe: a run with a broken name exited $status, not 2"
log "probe: OK for the base PEM and domain files on couriertls, imapd and esmtpd; stale, chainless and mismatched files caught"

for pid in $probe_pids; do
    in_chroot /usr/sbin/couriertcpd -pid="$pid" -stop
done
in_chroot rm -rf "$probe_dir" /tmp/mkcert-probe-tls.log /tmp/mkcert-probe-imapd.log \
    /tmp/mkcert-probe-esmtpd.log
