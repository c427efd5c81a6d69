"""Small asyncio servers the lab runs inside its namespaces (python -m ipv6scan.lab.servers.X).

Each binds every endpoint it is given, then writes its ready file, then serves
until SIGTERM. They use the standard library only.
"""
