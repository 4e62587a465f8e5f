"""One service per WeCom doc group, reached as cached attributes of ``WeComClient``."""
