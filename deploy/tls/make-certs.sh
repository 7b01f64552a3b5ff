#!/usr/bin/env bash
# A throw-away certificate authority and the brokers' certificates, for
# trying the compose cluster on one machine. Production uses the agencies'
# PKI (or cert-manager / Strimzi's own CA on Kubernetes) instead.
#
#   deploy/tls/make-certs.sh            # writes deploy/tls/out/ (idempotent)
#
# Every broker presents CN=kafka-broker (one super-user principal for the
# brokers' and controllers' mutual TLS) with its own host name as SAN.
# Clients only need out/ca.crt: they log in with SASL/SCRAM over TLS.
set -euo pipefail
out="$(dirname "$0")/out"
mkdir -p "$out"
cd "$out"
days=825

if [[ ! -f ca.crt ]]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days "$days" \
    -subj "/CN=handoff-dev-ca" -keyout ca.key -out ca.crt
fi

for n in 1 2 3; do
  host="kafka-$n"
  [[ -f "$host.pem" ]] && continue
  openssl req -newkey rsa:3072 -nodes -subj "/CN=kafka-broker" \
    -keyout "$host.key" -out "$host.csr"
  printf 'subjectAltName=DNS:%s,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' "$host" > "$host.ext"
  openssl x509 -req -in "$host.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days "$days" -extfile "$host.ext" -out "$host.crt"
  # Kafka's PEM key store: the unencrypted PKCS#8 key, then the chain.
  openssl pkcs8 -topk8 -nocrypt -in "$host.key" > "$host.pem"
  cat "$host.crt" ca.crt >> "$host.pem"
  rm -f "$host.csr" "$host.ext"
done
# The containers run as non-root users that are not the host's.
chmod 644 ./*.pem ./*.crt
echo "certificates in $out"
