"""Local emulators of the Alipay OpenAPI and WeChat Pay API v3 gateways (demo and tests only)."""
