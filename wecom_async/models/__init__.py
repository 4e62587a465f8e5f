"""Wire models, one module per WeCom doc group; the public ones are re-exported here."""
