"""Before/after rulesets for the diff tests (iptables-save text)."""

HEAD = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
"""

BASE = HEAD + """-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p tcp --dport 443 -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp --dport 5432 -j ACCEPT
COMMIT
"""

REORDERED = HEAD + """-A INPUT -s 10.0.0.0/8 -p tcp --dport 5432 -j ACCEPT
-A INPUT -p tcp --dport 443 -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -i lo -j ACCEPT
COMMIT
"""

MYSQL_OPENED = BASE.replace("--dport 443 -j ACCEPT\n", "--dport 443 -j ACCEPT\n-A INPUT -p tcp --dport 3306 -j ACCEPT\n")

MOVED_BELOW_CATCH_ALL = HEAD + """-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p tcp --dport 443 -j ACCEPT
-A INPUT -j DROP
-A INPUT -s 10.0.0.0/8 -p tcp --dport 5432 -j ACCEPT
COMMIT
"""

DNAT_ADDED = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
""" + BASE.replace("COMMIT\n", """-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT
COMMIT
""")
