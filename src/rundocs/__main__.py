from rundocs.site.cli import main

main()
