# acme.sh deploy hook for the Courier mail server, from courier-mkcert.
# Copy it into acme.sh's deploy directory (~/.acme.sh/deploy/courier.sh), then
#   acme.sh --deploy -d mail.example.org --deploy-hook courier
# installs the certificate now and after every renewal into the Courier PEMs
# that /etc/courier/mkcert-install.conf gives mail.example.org to.
# COURIER_MKCERT_DEPLOY: the deploy command, if not where Debian's
# courier-mkcert package puts it.

courier_deploy() {
  _cdomain="$1"
  _ckey="$2"
  _ccert="$3"
  _cca="$4"
  _cfullchain="$5"
  _courier_deploy=${COURIER_MKCERT_DEPLOY:-/usr/share/courier-mkcert/courier-mkcert-deploy}
  _debug _courier_deploy "$_courier_deploy"
  if ! "$_courier_deploy" --client acme.sh --name "$_cdomain" \
    --key "$_ckey" --fullchain "$_cfullchain" "$_cdomain"; then
    _err "courier-mkcert did not install $_cdomain (see above, or syslog)"
    return 1
  fi
  return 0
}
