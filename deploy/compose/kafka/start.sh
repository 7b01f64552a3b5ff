#!/usr/bin/env bash
# Starts one node of the compose cluster (broker and controller, KRaft):
# writes its server.properties, formats its storage on first start, then
# runs Kafka. The SCRAM users are added at format time because KRaft can
# only bootstrap credentials that way: the brokers talk to each other over
# mutual TLS, the clients log in with SASL/SCRAM over TLS.
#
# Environment: NODE_ID, CLUSTER_ID, and <PRINCIPAL>_PASSWORD for the admin
# and every principal of `handoff topics --print acls`.
set -euo pipefail
: "${NODE_ID:?}" "${CLUSTER_ID:?}"
tls=/etc/kafka/tls
conf=/tmp/server.properties

cat > "$conf" <<PROPERTIES
node.id=${NODE_ID}
process.roles=broker,controller
controller.quorum.voters=1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093
controller.listener.names=CONTROLLER
listeners=INTERNAL://:9091,CONTROLLER://:9093,CLIENT://:9092
advertised.listeners=INTERNAL://kafka-${NODE_ID}:9091,CLIENT://kafka-${NODE_ID}:9092
listener.security.protocol.map=INTERNAL:SSL,CONTROLLER:SSL,CLIENT:SASL_SSL
inter.broker.listener.name=INTERNAL
ssl.keystore.type=PEM
ssl.keystore.location=${tls}/kafka-${NODE_ID}.pem
ssl.truststore.type=PEM
ssl.truststore.location=${tls}/ca.crt
ssl.client.auth=required
listener.name.client.ssl.client.auth=none
sasl.enabled.mechanisms=SCRAM-SHA-512
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:CN=kafka-broker;User:admin
auto.create.topics.enable=false
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
log.dirs=/var/lib/kafka/data
PROPERTIES

# The healthcheck's client: the broker's own certificate on INTERNAL.
cat > /tmp/internal-client.properties <<PROPERTIES
security.protocol=SSL
ssl.keystore.type=PEM
ssl.keystore.location=${tls}/kafka-${NODE_ID}.pem
ssl.truststore.type=PEM
ssl.truststore.location=${tls}/ca.crt
PROPERTIES

scram=()
for user in admin ice hhs doj handoff-registry handoff-views handoff-notify handoff-analyst handoff-audit; do
  var="$(echo "${user}" | tr 'a-z-' 'A-Z_')_PASSWORD"
  password="${!var:?set ${var} (see deploy/compose/example.env)}"
  scram+=(--add-scram "SCRAM-SHA-512=[name=${user},password=${password}]")
done
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted -t "${CLUSTER_ID}" -c "$conf" "${scram[@]}"
exec /opt/kafka/bin/kafka-server-start.sh "$conf"
