from opnode.cli import main

main()
