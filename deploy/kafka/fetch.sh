#!/usr/bin/env bash
# Resolves Apache Kafka and its Log4j2 binding from Maven Central (deploy/kafka/pom.xml) and copies
# the runtime jars into $MNO_KAFKA_HOME/libs (default: <repo>/.cache/kafka/libs), where
# gateway/events/broker.py finds them. Idempotent: nothing happens while the stamp matches the pom.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
home="${MNO_KAFKA_HOME:-$repo/.cache/kafka}"
libs="$home/libs"
stamp="$home/libs.sha256"
pom="$here/pom.xml"

want="$(sha256sum "$pom" | cut -d' ' -f1)"
if [[ -f "$stamp" && -d "$libs" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

for tool in mvn java; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "fetch.sh: '$tool' introuvable ; installez Java 17+ et Maven / '$tool' not found; install Java 17+ and Maven" >&2
        exit 1
    fi
done

echo "kafka: résolution des jars Apache Kafka / resolving Apache Kafka jars -> $libs" >&2
mkdir -p "$home"
# Copy into a fresh folder then swap it in, so an interrupted run never leaves half a classpath.
tmp="$(mktemp -d "$home/libs.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
log="$home/fetch.log"
if ! mvn -q -B -f "$pom" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime >"$log" 2>&1; then
    echo "fetch.sh: échec de Maven / Maven failed (see $log):" >&2
    tail -n 30 "$log" >&2
    exit 1
fi
if ! ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1; then
    echo "fetch.sh: kafka_2.13 absent après résolution / missing after resolution (see $log)" >&2
    exit 1
fi
rm -rf "$libs"
mv "$tmp" "$libs"
trap - EXIT
echo "$want" >"$stamp"
echo "kafka: $(ls "$libs" | wc -l) jars prêts / ready in $libs" >&2
