#!/usr/bin/env bash
# Prints a customers CSV (dpa's batch format) of generated customers FROM..TO, the same
# customers benches/batch.sh generates: customer-00001 is "Customer 00001 GmbH" at
# "Hauptstraße 1", privacy1@customer.example, effective 2026-06-01, no features.
#
# Usage: benches/customers.sh FROM TO > customers.csv
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 FROM TO" >&2; exit 2; }
awk -v from="$1" -v to="$2" 'BEGIN {
  print "id,legal_name,address,country,email,effective,signatory_name,signatory_title,features"
  for (i = from; i <= to; i++)
    printf "customer-%05d,Customer %05d GmbH,\"Hauptstra\303\237e %d, 10115 Berlin, Germany\",DE,privacy%d@customer.example,2026-06-01,Erika Mustermann,Managing Director,\n", i, i, i, i
}'
