from ipv6scan.entry import main

raise SystemExit(main())
