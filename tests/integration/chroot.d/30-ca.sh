# Part: the private mail CA.  mkcourierca makes a CA (key 0600 root, certificate
# 0644), mkimapdcert --ca issues from Debian's own imapd.cnf template, and
# Debian's couriertls serves key, leaf and CA; a client that trusts only
# courier-ca.pem verifies the chain and the name (openssl s_client
# -verify_return_error), before and after two renewals (one of them by the
# timer's helper), with the CA's fingerprint unchanged.  Works in a
# CERTSDIR of its own, removed at the end; PEMFILE is given, since Debian's
# imapd-ssl names /etc/courier/imapd.pem as TLS_CERTFILE, which wins otherwise.
ca_dir=/tmp/mkcert-ca
ca_env="COURIER_CERTSDIR=$ca_dir TLS_DHPARAMS=/etc/courier/dhparams.pem"
ca_name=mail.example.org
in_chroot rm -rf "$ca_dir"
in_chroot mkdir -m 755 "$ca_dir"
[ -x "$root/usr/sbin/mkcourierca" ] || fail "/usr/sbin/mkcourierca is not installed"
[ -f "$root/usr/share/man/man8/mkcourierca.8.gz" ] || fail "mkcourierca.8 is not installed"

log "A: mkcourierca: a private CA; mkimapdcert --ca issues from Debian's imapd.cnf"
out=$(in_chroot env $ca_env mkcourierca --domain example.org 2>&1) || fail "mkcourierca: $out"
echo "$out" >>"$aptlog"
[ "$(in_chroot stat -c '%a %U' "$ca_dir/courier-ca.key")" = "600 root" ] ||
    fail "courier-ca.key is $(in_chroot stat -c '%a %U' "$ca_dir/courier-ca.key"), not 600 root"
[ "$(in_chroot stat -c '%a' "$ca_dir/courier-ca.pem")" = 644 ] || fail "courier-ca.pem is not 0644"
ca_fingerprint=$(in_chroot openssl x509 -in "$ca_dir/courier-ca.pem" -noout -fingerprint -sha256)
out=$(in_chroot env $ca_env mkcourierca --fingerprint 2>&1) || fail "mkcourierca --fingerprint: $out"
[ "$out" = "$ca_fingerprint" ] || fail "mkcourierca --fingerprint said '$out', openssl '$ca_fingerprint'"
out=$(in_chroot env $ca_env mkimapdcert --ca --san "$ca_name" "$ca_dir/imapd.pem" 2>&1) || fail "mkimapdcert --ca: $out"
echo "$out" >>"$aptlog"
[ "$(in_chroot stat -c '%a %U' "$ca_dir/imapd.pem")" = "600 courier" ] ||
    fail "the issued imapd.pem is $(in_chroot stat -c '%a %U' "$ca_dir/imapd.pem"), not 600 courier"
in_chroot openssl verify -CAfile "$ca_dir/courier-ca.pem" "$ca_dir/imapd.pem" >>"$aptlog" 2>&1 ||
    fail "openssl verify -CAfile courier-ca.pem imapd.pem"

ca_port=$(free_port)
ca_pid=/tmp/mkcert-ca-couriertcpd.pid
in_chroot env TLS_CERTFILE="$ca_dir/imapd.pem" TLS_DHPARAMS=/etc/courier/dhparams.pem \
    /usr/sbin/couriertcpd -pid="$ca_pid" -nodnslookup -noidentlookup -maxprocs=4 \
    -stderr=/tmp/mkcert-ca-couriertcpd.log -address=127.0.0.1 "$ca_port" \
    /usr/bin/couriertls -server -tcpd /bin/cat || fail "couriertcpd for the CA's PEM"
# What couriertls serves verifies for a client that trusts courier-ca.pem
# alone, and it is exactly the PEM's leaf and CA.
ca_served_verifies() {
    local i
    for i in $(seq 50); do
        echo | in_chroot timeout 10 openssl s_client -connect "127.0.0.1:$ca_port" \
            -CAfile "$ca_dir/courier-ca.pem" -verify_return_error -verify_hostname "$ca_name" \
            -showcerts >"$work/ca-verify.log" 2>&1 && break
        sleep 0.1
    done
    grep -q '^Verify return code: 0 (ok)$' "$work/ca-verify.log" ||
        { cat "$work/ca-verify.log" "$root/tmp/mkcert-ca-couriertcpd.log" >>"$aptlog";
          fail "$1: s_client -CAfile courier-ca.pem does not verify what couriertls serves"; }
    same_state "$1: couriertls did not serve imapd.pem's leaf and CA" \
        "$(cert_fingerprints <"$root$ca_dir/imapd.pem")" \
        "$(sed -n '/^-----BEGIN CERTIFICATE-----$/,/^-----END CERTIFICATE-----$/p' \
            "$work/ca-verify.log" | cert_fingerprints)"
    [ "$(in_chroot openssl x509 -in "$ca_dir/courier-ca.pem" -noout -fingerprint -sha256)" = \
        "$ca_fingerprint" ] || fail "$1: the CA's fingerprint changed"
}
ca_served_verifies "first issue"
leaves=$(in_chroot openssl x509 -in "$ca_dir/imapd.pem" -noout -fingerprint -sha256)
out=$(in_chroot env $ca_env mkimapdcert --renew --force "$ca_dir/imapd.pem" 2>&1) || fail "mkimapdcert --renew --force: $out"
echo "$out" >>"$aptlog"
case $out in *"renewed from the local CA"*) ;; *) fail "--renew of the CA's PEM said: $out" ;; esac
ca_served_verifies "after --renew --force"
leaves+=$'\n'$(in_chroot openssl x509 -in "$ca_dir/imapd.pem" -noout -fingerprint -sha256)
# The timer's helper, with a window that makes the 365-day leaf due.
out=$(in_chroot env $ca_env /usr/lib/courier/courier-mkcert-renew-all 400 2>&1) ||
    fail "courier-mkcert-renew-all with the CA: $out"
echo "$out" >>"$aptlog"
case $out in *"courier-ca.pem: not due for renewal"*"imapd.pem: renewed from the local CA"*) ;;
    *) fail "courier-mkcert-renew-all said: $out" ;; esac
ca_served_verifies "after courier-mkcert-renew-all"
leaves+=$'\n'$(in_chroot openssl x509 -in "$ca_dir/imapd.pem" -noout -fingerprint -sha256)
[ "$(echo "$leaves" | sort -u | wc -l)" = 3 ] || fail "the renewals did not make new leaves: $leaves"
out=$(in_chroot env $ca_env mkimapdcert --check "$ca_dir/imapd.pem" 2>&1) || fail "mkimapdcert --check of the CA's PEM: $out"
echo "$out" >>"$aptlog"
out=$(in_chroot env $ca_env mkcourierca --check 2>&1) || fail "mkcourierca --check: $out"
echo "$out" >>"$aptlog"
in_chroot /usr/sbin/couriertcpd -pid="$ca_pid" -stop
in_chroot rm -rf "$ca_dir" /tmp/mkcert-ca-couriertcpd.log
log "A: couriertls serves the CA-issued chain; s_client -CAfile courier-ca.pem accepts it, before and after two renewals"
