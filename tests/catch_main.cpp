// The main() of the project's own Catch2 test executables.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
