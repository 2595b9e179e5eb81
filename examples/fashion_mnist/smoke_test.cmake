# The trainer's smoke test: trains on the first 6000 images for 2 epochs, then fails unless
#  - the run succeeded and printed both epoch lines and the final accuracy line,
#  - the training loss fell from epoch 1 to epoch 2, and epoch 1's is already below ln(10),
#    the loss of a uniform guess (label smoothing does not change that value),
#  - the test accuracy (all 10000 test images) is above 60%; chance is 10%,
#  - and the run agrees with PyTorch: reference.py, given the same arguments, starts from the
#    same weights and sees the same batches; its losses and accuracy are below. The two
#    implementations differ in rounding only (observed: under 0.0001 in loss, 0.02 points in
#    accuracy); the bounds are 50 and 25 times that. A slower learner, a frozen conv layer
#    or a wrong loss leave them; subtler errors in the backward pass are the gradient check's.
# A trainer that does not learn (zero or wrong gradients, a step the wrong way) fails.
# Skipped, with a message CTest recognises, when the data files are missing.
#
#   cmake -DTRAINER=path/to/fashion_mnist -DDATA_DIR=dir [-DEXTRA_ARGS="--lr;0"] -P smoke_test.cmake

execute_process(
  COMMAND ${TRAINER} --data ${DATA_DIR} --subset 6000 --epochs 2 --seed 1 --lr 0.002 --threads 2
          ${EXTRA_ARGS}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}${errors}")

if(result EQUAL 3)
  message("SKIPPED: Fashion-MNIST data not found in ${DATA_DIR} "
          "(apt-get install dataset-fashion-mnist, or configure with "
          "-DSHAPEGUARD_FASHION_MNIST_DIR=dir)")
  return()
endif()
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the trainer failed: ${result}")
endif()

set(number "([0-9]+\\.[0-9]+)")
foreach(epoch 1 2)
  if(NOT output MATCHES "\nepoch ${epoch}/2: train loss ${number}, test accuracy ${number}%")
    message(FATAL_ERROR "no line for epoch ${epoch}")
  endif()
  set(loss${epoch} ${CMAKE_MATCH_1})
  set(accuracy${epoch} ${CMAKE_MATCH_2})
endforeach()
if(NOT output MATCHES "\ntest accuracy: ${accuracy2}%\n$")
  message(FATAL_ERROR "the last line is not 'test accuracy: ${accuracy2}%'")
endif()

if(NOT loss1 LESS 2.302585)
  message(FATAL_ERROR "epoch 1's training loss ${loss1} is no better than a uniform guess")
endif()
if(NOT loss2 LESS loss1)
  message(FATAL_ERROR "the training loss did not fall: ${loss1}, then ${loss2}")
endif()
if(NOT accuracy2 GREATER 60)
  message(FATAL_ERROR "test accuracy ${accuracy2}% is not above 60%")
endif()
# PyTorch's run, /usr/bin/python3 reference.py with the arguments above, printed
# train loss 1.0689 and 0.8189, test accuracy 85.10%; the ranges are +-0.005 and +-0.5 points.
function(expect_near what value low high)
  if(value LESS low OR value GREATER high)
    message(FATAL_ERROR "${what} ${value} is outside [${low}, ${high}], around PyTorch's "
                        "(reference.py) for the same run")
  endif()
endfunction()
expect_near("epoch 1's training loss" ${loss1} 1.0639 1.0739)
expect_near("epoch 2's training loss" ${loss2} 0.8139 0.8239)
expect_near("the test accuracy" ${accuracy2} 84.60 85.60)
message("PASSED: training loss ${loss1} -> ${loss2}, test accuracy ${accuracy2}%")
