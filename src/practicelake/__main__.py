from practicelake.cli.main import main

main()
