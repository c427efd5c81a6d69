from ipv6scan.cli import main

raise SystemExit(main())
