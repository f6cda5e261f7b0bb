# Shared by both packages' postinst (sourced): the edgenas system user and its state directory.
edgenas_user() {
  if ! getent group edgenas >/dev/null; then addgroup --system --quiet edgenas; fi
  if ! getent passwd edgenas >/dev/null; then
    adduser --system --quiet --ingroup edgenas --home /var/lib/edgenas --no-create-home \
      --shell /usr/sbin/nologin --gecos "edgenas daemons" edgenas
  fi
  install -d -o edgenas -g edgenas -m 0750 /var/lib/edgenas
}
