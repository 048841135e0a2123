#!/usr/bin/env bash
# Prints a customers CSV (dpa's batch format) of generated customers FROM..TO, the same
# customers benches/batch.sh generates: customer-00001 is "Customer 00001 GmbH" at
# "Hauptstraße 1", privacy1@customer.example, effective 2026-06-01, no features.
#
# With VARIED=1 the names, addresses and signatories vary as a real list's do (lengths,
# legal forms, umlauts, and every tenth customer Polish or Czech, whose letters the
# template's text does not have), still the same for the same FROM..TO. The uniform list
# is the best case for the memo tables; the varied one is closer to a vendor's.
#
# Usage: [VARIED=1] benches/customers.sh FROM TO > customers.csv
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 FROM TO" >&2; exit 2; }
awk -v from="$1" -v to="$2" -v varied="${VARIED:-0}" 'BEGIN {
  print "id,legal_name,address,country,email,effective,signatory_name,signatory_title,features"
  split("Nord Alpen Rhein Blau Stern Kraft Licht Berg Wald Feld Hafen Brücken Sonnen Eichen Linden", first, " ")
  split("werk haus bau tech daten logistik handel systeme medien consult software energie", second, " ")
  split("GmbH|AG|GmbH & Co. KG|SE|UG (haftungsbeschränkt)|KG", form, "|")
  split("Hauptstraße|Bahnhofstraße|Schillerweg|Am Markt|Goetheallee|Industriepark Nord|Kirchplatz", street, "|")
  split("10115 Berlin|80331 München|20095 Hamburg|50667 Köln|60311 Frankfurt am Main|70173 Stuttgart", city, "|")
  split("Erika Mustermann|Max Müller|Anna Schmidt-Weber|Jonas Becker|Sophie Wagner|Leon Hoffmann", person, "|")
  split("Managing Director|CEO|Geschäftsführerin|Head of Legal|Data Protection Officer", title, "|")
  split("Łódzkie Zakłady Włókiennicze S.A.|Pivovar Křižík a.s.|Świętokrzyska Spółka Danych sp. z o.o.|Žižkovská Řemesla s.r.o.", east, "|")
  for (i = from; i <= to; i++) {
    if (!varied) {
      printf "customer-%05d,Customer %05d GmbH,\"Hauptstra\303\237e %d, 10115 Berlin, Germany\",DE,privacy%d@customer.example,2026-06-01,Erika Mustermann,Managing Director,\n", i, i, i, i
      continue
    }
    if (i % 10 == 0) name = east[int(i / 10) % 4 + 1]
    else name = first[i % 15 + 1] second[int(i / 15) % 12 + 1] " " form[int(i / 7) % 6 + 1]
    printf "customer-%05d,\"%s\",\"%s %d, %s, Germany\",DE,privacy%d@customer.example,2026-06-01,%s,%s,\n",
      i, name, street[i % 7 + 1], i % 250 + 1, city[int(i / 3) % 6 + 1], i, person[i % 6 + 1], title[i % 5 + 1]
  }
}'
