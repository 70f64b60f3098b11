# Every dependency comes from Debian's packages. CAF, LMDB and xxHash ship no CMake
# package there, so small find modules in this folder provide imported targets.
find_package(Threads REQUIRED)
find_package(CAF 0.17 REQUIRED COMPONENTS core io)
find_package(LMDB REQUIRED)
find_package(xxHash REQUIRED)
find_package(cereal CONFIG REQUIRED)
