"""PyPI's pagerduty client (EventsApiV2Client) against a Calmroom server:
trigger, acknowledge and resolve must all be accepted without error.

Usage: python pagerduty_client.py <base URL> <routing key>
Prints the dedup key it was given. The client refuses any base URL that is
not https by design; this test alone points it at plain http on loopback
after construction (its private _url), which changes nothing else it does.
"""

import sys

import pagerduty


def main() -> None:
    base, key = sys.argv[1], sys.argv[2]
    client = pagerduty.EventsApiV2Client(key)
    client._url = base  # loopback over http, in this test only (see above)
    dedup = client.trigger(
        "Payments API p99 above 2 s",
        "payments-api",
        severity="error",
        custom_details={"p99_ms": 2450, "region": "eu-west"},
        links=[{"href": "https://grafana.example.com/d/payments", "text": "Dashboard"}],
    )
    if not isinstance(dedup, str) or len(dedup) != 32:
        raise SystemExit(f"expected a generated 32-character dedup_key, got {dedup!r}")
    if client.acknowledge(dedup) != dedup:
        raise SystemExit("acknowledge answered another dedup_key")
    if client.resolve(dedup) != dedup:
        raise SystemExit("resolve answered another dedup_key")
    print(dedup)


if __name__ == "__main__":
    main()
