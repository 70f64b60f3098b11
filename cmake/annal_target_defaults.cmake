# Compile settings shared by every target of the project (never by consumers).
function(annal_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual)
  if(ANNAL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(ANNAL_SANITIZE)
    # UBSan's null check fires inside CAF's init_fun_factory on every spawn of a
    # function actor without arguments (a benign reference to *nullptr in CAF).
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined
                           -fno-sanitize=null -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
