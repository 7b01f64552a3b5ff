#!/usr/bin/env bash
# Grants each principal what it needs and nothing more, as the admin (a
# super user) over SASL/SCRAM. Idempotent: adding an ACL twice is a no-op.
# The `allow` lines are the table `handoff topics --print acls` prints; CI
# (scripts/check_deploy.py) fails if they differ.
set -euo pipefail
: "${ADMIN_PASSWORD:?}"
client=/tmp/admin.properties
cat > "$client" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${ADMIN_PASSWORD}";
ssl.truststore.type=PEM
ssl.truststore.location=/etc/kafka/tls/ca.crt
PROPERTIES

allow() { # principal operation topic|group name
  /opt/kafka/bin/kafka-acls.sh --bootstrap-server kafka-1:9092 --command-config "$client" \
    --add --allow-principal "User:$1" --operation "$2" "--$3" "$4" >/dev/null
  echo "allowed $1 $2 on $3 $4"
}

# The agencies' adapters: each writes its own topic only.
allow ice Write topic handoff.ice.v1
allow hhs Write topic handoff.hhs.v1
allow doj Write topic handoff.doj.v1

# The schema registry's log.
allow handoff-registry Read topic _schemas
allow handoff-registry Write topic _schemas
allow handoff-registry Read group handoff-registry

# The views (and their API): the agency topics in, the audit log out.
allow handoff-views Read topic handoff.ice.v1
allow handoff-views Read topic handoff.hhs.v1
allow handoff-views Read topic handoff.doj.v1
allow handoff-views Write topic handoff.audit.v1
allow handoff-views Write topic handoff.dlq.v1
allow handoff-views Read group handoff-views

# The notifier: the agency topics in, notifications out.
allow handoff-notify Read topic handoff.ice.v1
allow handoff-notify Read topic handoff.hhs.v1
allow handoff-notify Read topic handoff.doj.v1
allow handoff-notify Write topic handoff.notifications.v1
allow handoff-notify Write topic handoff.dlq.v1
allow handoff-notify Read group handoff-notify

# Analysts' replay and export: the history, read only.
allow handoff-analyst Read topic handoff.ice.v1
allow handoff-analyst Read topic handoff.hhs.v1
allow handoff-analyst Read topic handoff.doj.v1

# The audit reader: the only reader of the audit log.
allow handoff-audit Read topic handoff.audit.v1
allow handoff-audit Read group handoff-audit
