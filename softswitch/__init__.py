"""The softswitch application: registrar, B2BUA, trunks, routing and features."""
