// The main() of every test executable. rapidcheck reads RC_PARAMS; the default of 100
// cases per property is the floor the design asks for (Feature tags on each property).
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
