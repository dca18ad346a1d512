from skomirror.cli import main

main()
