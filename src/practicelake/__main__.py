from practicelake.cli import main

main()
